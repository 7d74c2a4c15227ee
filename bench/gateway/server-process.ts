import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';

/**
 * The product as a child process (`node dist/src/main.js …`), as an operator would run it: the
 * port is read from its start-up banner, health from its REST endpoint, and stop() always ends
 * it (SIGTERM, then SIGKILL after a grace period), whatever state it is in.
 */

const MAIN = path.resolve(__dirname, '../../src/main.js');
const BANNER = /WebSocket \(FlatBuffers\):\s+wss?:\/\/([^\s/]+):(\d+)\//;
const KEEP_OUTPUT = 4096;
const TERM_GRACE_MS = 3000;

export interface WorkerHealth {
  accepted: number;
}

export interface Health {
  workers: WorkerHealth[];
  published: number;
  connections: number;
}

export class ServerProcess {
  private output = '';
  private exit: Promise<unknown>;
  exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly host: string,
    readonly port: number,
  ) {
    this.exit = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit').catch(() => undefined);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get url(): string {
    return `ws://${this.host}:${this.port}/ws?format=flatbuffers`;
  }

  /**
   * Starts the server with `args` and resolves once it printed its WebSocket address; `main` is
   * another build's entry point (A/B runs against an older checkout), this build's by default.
   */
  static start(args: readonly string[], timeoutMs: number, main = MAIN): Promise<ServerProcess> {
    // Benchmarks measure the engine, not access control or request budgets, unless they ask for them.
    const auth = [...(args.includes('--auth') ? [] : ['--auth', 'off']), ...(args.includes('--public-rate') ? [] : ['--public-rate', 'off'])];
    const child = spawn(process.execPath, [main, ...auth, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-KEEP_OUTPUT);
    };
    return new Promise<ServerProcess>((resolve, reject) => {
      let settled = false;
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(Object.assign(new Error(`${message}\n--- server output ---\n${output}`), { code: 'BENCH_SERVER_FAILED' }));
      };
      const timer = setTimeout(() => fail(`server did not print its address within ${timeoutMs} ms`), timeoutMs);
      child.stderr!.on('data', keep);
      child.stdout!.on('data', (chunk: Buffer) => {
        keep(chunk);
        const match = BANNER.exec(output);
        if (match === null || settled) return;
        settled = true;
        clearTimeout(timer);
        const server = new ServerProcess(child, match[1], Number(match[2]));
        child.stdout!.on('data', (more: Buffer) => server.keep(more));
        child.stderr!.on('data', (more: Buffer) => server.keep(more));
        child.on('exit', () => (server.exited = true));
        resolve(server);
      });
      child.on('error', (err) => fail(`could not start the server: ${err.message}`));
      child.on('exit', (code, signal) => fail(`server exited during start-up (code ${code}, signal ${signal})`));
    });
  }

  private keep(chunk: Buffer): void {
    this.output = (this.output + chunk.toString()).slice(-KEEP_OUTPUT);
  }

  /** The last few KiB the server printed, for error reports. */
  get recentOutput(): string {
    return this.output;
  }

  async health(timeoutMs = 3000): Promise<Health> {
    const response = await fetch(`http://${this.host}:${this.port}/api/v1/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`health answered ${response.status}`);
    return (await response.json()) as Health;
  }

  /** SIGTERM, then SIGKILL if it is still there after the grace period. Never throws. */
  async stop(): Promise<'terminated' | 'killed' | 'already exited'> {
    if (this.exited) return 'already exited';
    this.child.kill('SIGTERM');
    if (await within(this.exit, TERM_GRACE_MS)) return 'terminated';
    this.child.kill('SIGKILL');
    await within(this.exit, TERM_GRACE_MS);
    return 'killed';
  }

  /** For process-exit handlers: no waiting possible there. */
  killNow(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True if `promise` settles within `ms`; the timer does not outlive the answer. */
export function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(done, done);
  });
}

/** The name of the simulator's generated symbol `index` (`--symbols '' --symbol-count n`): SIM001/USD, … */
export function symbolName(index: number): string {
  return `SIM${String(index + 1).padStart(3, '0')}/USD`;
}

/** Events the book workers have accepted since start, all workers together. */
export function acceptedEvents(health: Health): number {
  return health.workers.reduce((sum, w) => sum + w.accepted, 0);
}
