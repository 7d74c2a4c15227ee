import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../src/config';
import { RunningServer, ServerOptions, startServer } from '../../src/app/server';
import { seedDataDir } from '../helpers/pglite-template';

/** A controllable clock (ms since the epoch) for expiry tests: starts at the real time, moves only when told. */
export class TestClock {
  now = Date.now();
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export interface AuthServer {
  server: RunningServer;
  http: string;
  ws: string;
  dataDir: string;
  /** fetch against the server, JSON body parsed (null when not JSON). */
  request(path: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/**
 * A real server for access-control tests. Unlike startTestServer it reads nothing at start (under
 * --auth required the symbol list needs a key), takes server options (an injected clock), and can
 * share a data directory with a second start (keys made by the CLI, restarts).
 */
export async function startAuthServer(args: string[], options: ServerOptions = {}, dataDir?: string): Promise<AuthServer> {
  const own = dataDir === undefined;
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), 'bookcast-auth-'));
  let server: RunningServer;
  try {
    const all = ['--port', '0', '--data-dir', dir, '--rate', '50', '--workers', '1', ...args];
    await seedDataDir(all);
    server = await startServer(loadConfig(all, {}), options);
  } catch (err) {
    if (own) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const http = `http://127.0.0.1:${server.port}`;
  return {
    server,
    http,
    ws: `ws://127.0.0.1:${server.port}`,
    dataDir: dir,
    async request(p, init) {
      const res = await fetch(http + p, init);
      const text = await res.text();
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      return { status: res.status, body, headers: res.headers };
    },
    async stop() {
      await server.stop();
      if (own) rmSync(dir, { recursive: true, force: true });
    },
  };
}
