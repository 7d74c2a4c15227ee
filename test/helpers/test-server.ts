import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../src/config';
import { RunningServer, startServer } from '../../src/app/server';
import { seedDataDir } from './pglite-template';

/** A symbol as GET /api/v1/market/symbols lists it (the fields tests use). */
export interface SymbolInfo {
  symbol: string;
  price_decimals: number;
  size_decimals: number;
}

export interface TestServer {
  server: RunningServer;
  url: string;
  http: string;
  symbols: Map<string, SymbolInfo>;
  get(path: string): Promise<{ status: number; body: any }>;
  /** The data directory the helper made for this server (removed on stop); null when the test named one. */
  dataDir: string | null;
}

/**
 * Data directories made here and not removed yet. Each holds an embedded PGlite store (40–90 MB),
 * so every server's is removed when it stops, when it fails to start, and, for a test that died
 * before stopping its server, when the process exits.
 */
export const openDataDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of openDataDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Why running test servers of this process failed (a thread of theirs stopped): a wait gives up
 * at once, saying so, instead of polling a dead server until its hang guard. A server's entry
 * goes when it is stopped.
 */
const failures = new Map<RunningServer, string>();

function removeDataDir(dir: string | null): void {
  if (dir === null) return;
  rmSync(dir, { recursive: true, force: true });
  openDataDirs.delete(dir);
}

/** A real bookcast server on an ephemeral loopback port, configured by command-line flags. */
export async function startTestServer(args: string[]): Promise<TestServer> {
  // A fresh embedded store per server unless the test names one.
  const dataDir = args.includes('--data-dir') ? null : mkdtempSync(path.join(tmpdir(), 'bookcast-test-'));
  if (dataDir !== null) openDataDirs.add(dataDir);
  let server: RunningServer;
  try {
    // Tests of everything but access control and limits run as before them (--auth off, no request
    // budget: a test polling REST while it waits would otherwise meet 429) unless they name them.
    const auth = [...(args.includes('--auth') ? [] : ['--auth', 'off']), ...(args.includes('--public-rate') ? [] : ['--public-rate', 'off'])];
    const all = ['--port', '0', ...auth, ...(dataDir === null ? [] : ['--data-dir', dataDir]), ...args];
    await seedDataDir(all);
    server = await startServer(loadConfig(all, {}));
  } catch (err) {
    removeDataDir(dataDir);
    throw err;
  }
  // The CLI stops on a failed thread; a test's server has nobody watching, and a wait would then
  // time out minutes later with no word of why: say it at once on stderr, and end every wait.
  let stopped = false;
  void server.failed.then((err) => {
    const why = `the test server failed: ${err.code}: ${err.message}`;
    process.stderr.write(why + '\n');
    if (!stopped) failures.set(server, why);
  });
  const stop = server.stop;
  server.stop = async () => {
    stopped = true;
    try {
      await stop();
    } finally {
      failures.delete(server);
      removeDataDir(dataDir);
    }
  };
  const http = `http://127.0.0.1:${server.port}`;
  const get = async (path: string) => {
    const res = await fetch(http + path);
    return { status: res.status, body: (await res.json()) as any };
  };
  const list = ((await get("/api/v1/market/symbols")).body as { symbols: SymbolInfo[] }).symbols;
  return { server, dataDir, url: `ws://127.0.0.1:${server.port}`, http, symbols: new Map(list.map((s) => [s.symbol, s])), get };
}

/**
 * One server for the subtests of a file that need none of their own (they only read it, or put
 * their faults in a proxy or a client of their own): started by the first subtest that asks and
 * stopped when the file's tests end. A server start (the embedded store's initialisation) costs
 * seconds of CPU on a loaded machine; a subtest that changes the server's state keeps its own.
 * `owner` (a file's root test) stops it when it ends. (Not tap's root imported here: the fuzz
 * script starts its servers through this module, outside tap.)
 */
export function sharedTestServer(owner: { teardown(fn: () => unknown): void }, args: string[]): () => Promise<TestServer> {
  let started: Promise<TestServer> | null = null;
  owner.teardown(async () => {
    if (started !== null) await (await started).server.stop();
  });
  return () => (started ??= startTestServer(args));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The default deadline of every wait in the tests: a hang guard, not a budget. With a second suite
 * beside this one on the two cores, a server took over a minute for what it does in a second alone.
 */
export const HANG_GUARD_MS = 180_000;

/**
 * Polls `condition` every 25 ms until it holds; fails after `timeoutMs` naming `what`, or as soon
 * as a running test server of this process has failed.
 */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = HANG_GUARD_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    for (const why of failures.values()) throw new Error(`${why} (while waiting for ${what})`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}
