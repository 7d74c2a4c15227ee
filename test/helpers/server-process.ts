import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { seedDataDir } from './pglite-template';

const main = path.join(__dirname, '..', '..', 'src', 'main.js');
/** V8's flag the suite runs with (.taprc), passed on to the servers it spawns. */
const WASM_BASELINE_ONLY = '--liftoff-only';

export interface ServerProcess {
  child: ChildProcess;
  http: string;
  /** Everything it printed on stdout so far (the FIX port line, for one). */
  output(): string;
}

/**
 * A real bookcast server in its own process (`node dist/src/main.js --port 0 …`), for tests that
 * kill it or restart it on the same data directory. Resolves once it listens; rejects with its
 * stderr if it exits first.
 */
export async function startServerProcess(args: string[], options: { fileLimit?: number } = {}): Promise<ServerProcess> {
  await seedDataDir(args);
  return new Promise((resolve, reject) => {
    // Tests of everything but access control and limits run as before them (--auth off, no request
    // budget) unless they name them.
    // A subcommand (`edge`) stays first.
    const subcommand = args.length > 0 && !args[0].startsWith('--') ? [args[0]] : [];
    if (subcommand.length > 0) args = args.slice(1);
    const command = [
      process.execPath, ...process.execArgv.filter((arg) => arg === WASM_BASELINE_ONLY), main, ...subcommand, '--port', '0',
      ...(args.includes('--auth') ? [] : ['--auth', 'off']),
      ...(args.includes('--public-rate') ? [] : ['--public-rate', 'off']),
      ...args,
    ];
    // A lower open-file limit through the shell's ulimit (lowering needs no privilege).
    const child =
      options.fileLimit === undefined
        ? spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('sh', ['-c', `ulimit -n ${options.fileLimit} && exec "$0" "$@"`, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /REST:\s+(https?:\/\/[^/]+)/.exec(out);
      if (m) resolve({ child, http: m[1], output: () => out });
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${err}`)));
  });
}

/** Stops it with `signal` (SIGTERM: an orderly stop; SIGKILL: a crash) and waits for the exit. */
export async function stopServerProcess(server: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill(signal);
  await exited;
}
