import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { sourceAddress, startClients, stopChildren } from './child-processes';
import type { ConnectionPlan, StartMessage } from './client-protocol';
import { DataDir } from './data-dir';
import { guardChildren } from './exit-guard';
import { ServerProcess } from './server-process';

/**
 * bookcast for the length of one measurement, as the gateway scenarios run it: its own process
 * on the simulator (`--symbols '' --symbol-count S --rate R --workers W`) with a fresh temporary
 * --data-dir, plus the client processes the scenario forks. Whatever happens (an error, or this
 * process interrupted), the clients, the server and its data directory are gone afterwards, and
 * an error carries the last of the server's output.
 */

export interface Bookcast {
  symbols: number;
  /** Simulator arrivals/s. */
  rate: number;
  workers: number;
}

/** bookcast creates its embedded store on start: seconds, and over a minute when other jobs load the 2 cores. */
const START_TIMEOUT_MS = 180_000;
const LATENCY_CLIENT = path.join(__dirname, 'latency-client.js');

/** Runs `body` against a fresh server; every process `body` adds to `clients` is stopped with it. */
export async function withBookcast<T>(bookcast: Bookcast, body: (server: ServerProcess, clients: ChildProcess[]) => Promise<T>): Promise<T> {
  const dataDir = new DataDir();
  const args = ['--port', '0', '--symbols', '', '--symbol-count', String(bookcast.symbols), '--rate', String(bookcast.rate), '--workers', String(bookcast.workers)];
  let server: ServerProcess;
  try {
    server = await ServerProcess.start([...args, ...dataDir.args], START_TIMEOUT_MS);
  } catch (err) {
    dataDir.remove();
    throw err;
  }
  const clients: ChildProcess[] = [];
  const unguard = guardChildren(() => {
    server.killNow();
    for (const c of clients) c.kill('SIGKILL');
    dataDir.remove();
  });
  try {
    return await body(server, clients);
  } catch (err) {
    const e = err as Error;
    e.message += `\n--- server output ---\n${server.recentOutput}`;
    throw e;
  } finally {
    await stopChildren(clients);
    await server.stop();
    dataDir.remove();
    unguard();
  }
}

export interface LatencyClients {
  /** The connections of each client process (latency-client.ts); process p connects from sourceAddress(p). */
  processes: ConnectionPlan[][];
  /** L2 depth of every subscription. */
  depth: number;
  setupTimeoutMs: number;
}

/** withBookcast, with the latency clients connected and subscribed (FlatBuffers) before `body` runs. */
export function withLatencyClients<T>(bookcast: Bookcast, latency: LatencyClients, body: (server: ServerProcess, clients: ChildProcess[]) => Promise<T>): Promise<T> {
  return withBookcast(bookcast, async (server, clients) => {
    const starts = latency.processes.map(
      (connections, p): StartMessage => ({ type: 'start', url: server.url, localAddress: sourceAddress(p), connections, depth: latency.depth, setupTimeoutMs: latency.setupTimeoutMs }),
    );
    await startClients(LATENCY_CLIENT, starts, clients);
    return body(server, clients);
  });
}
