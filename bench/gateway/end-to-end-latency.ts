import { runStandalone } from '../standalone';
import { round } from '../system';
import { withLatencyClients } from './bookcast-session';
import type { LatencySummary } from './child-processes';
import type { ClientMessage, ConnectionPlan } from './client-protocol';
import { acceptedEvents, Health, symbolName } from './server-process';
import { measureWindow, StreamCounts, sumReports, WARMUP_MS } from './window';

/**
 * EndToEndLatency: open loop, from the simulator's intended arrival time to the moment a client
 * process holds the decoded update. The server runs as its own process (`node dist/src/main.js
 * --symbols '' --symbol-count 100 --rate R --workers W`); its simulator schedules Poisson
 * arrivals and stamps every event with the time it was due, so a server that falls behind shows
 * as latency instead of slowing the arrivals (no coordinated omission). Client processes hold
 * 100 connections, each subscribed to L2 depth 10 of 10 symbols (connection i: symbols i*10 %
 * 100 …+10, so every symbol has 10 subscribers), record latency per update into HDR histograms
 * and check every stream's sequence continuity. 2 s of warm-up are discarded; the window is
 * chosen by intended time, and clients wait until every stream has delivered past it, so late
 * messages are counted with their full lateness rather than cut off.
 *
 * Everything shares the machine: server threads (front, source, book workers) and clients.
 * CPU seconds of the server (/proc) and clients (process.cpuUsage) are reported per point.
 */

const SYMBOLS = 100;
const CONNECTIONS = 100;
const SYMBOLS_PER_CONNECTION = 10;
const CLIENT_PROCESSES = 2;
const DEPTH = 10;
const SETUP_TIMEOUT_MS = 20_000;

interface PointResult extends Omit<LatencySummary, 'count'>, StreamCounts {
  workers: number;
  arrivalsPerSecond: number;
  seconds: number;
  eventsAppliedPerSecond: number;
  publishedPerSecond: number;
  deliveriesPerSecond: number;
  /** Latencies recorded. */
  updates: number;
  serverCpuSeconds: number | null;
  clientCpuSeconds: number;
  machineBusyCores: number | null;
  loadAverage: number[];
}

interface FailedPoint {
  workers: number;
  arrivalsPerSecond: number;
  error: string;
}

function plans(): ConnectionPlan[][] {
  const perProcess: ConnectionPlan[][] = Array.from({ length: CLIENT_PROCESSES }, () => []);
  for (let i = 0; i < CONNECTIONS; i++) {
    const first = (i * SYMBOLS_PER_CONNECTION) % SYMBOLS;
    const symbols = Array.from({ length: SYMBOLS_PER_CONNECTION }, (_, k) => symbolName((first + k) % SYMBOLS));
    perProcess[i % CLIENT_PROCESSES].push({ symbols });
  }
  return perProcess;
}

function point(workers: number, rate: number, seconds: number): Promise<PointResult> {
  const latency = { processes: plans(), depth: DEPTH, setupTimeoutMs: SETUP_TIMEOUT_MS };
  return withLatencyClients({ symbols: SYMBOLS, rate, workers }, latency, async (server, clients) => {
    const window = await measureWindow<ClientMessage, 'result', Health>(clients, 'result', { seconds, serverPid: server.pid, probe: () => server.health() });
    const [health0, health1] = window.probed!;
    const { messages, bytes: _bytes, count, ...latencyAndCounts } = sumReports(window.reports);
    return {
      workers,
      arrivalsPerSecond: rate,
      seconds,
      eventsAppliedPerSecond: Math.round((acceptedEvents(health1) - acceptedEvents(health0)) / window.seconds),
      publishedPerSecond: Math.round((health1.published - health0.published) / window.seconds),
      deliveriesPerSecond: Math.round(messages / seconds),
      updates: count,
      ...latencyAndCounts,
      serverCpuSeconds: window.serverCpuSeconds === null ? null : round(window.serverCpuSeconds, 2),
      clientCpuSeconds: round(window.reports.reduce((s, r) => s + r.cpuSeconds, 0), 2),
      machineBusyCores: window.machineBusyCores,
      loadAverage: window.loadAverage,
    };
  });
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const rates = opts.full ? [10_000, 50_000, 100_000] : [10_000, 50_000];
  // A point that fails (say, the server does not start) is reported and the others still run.
  const results: (PointResult | FailedPoint)[] = [];
  for (const workers of [1, 2]) {
    for (const rate of rates) {
      try {
        results.push(await point(workers, rate, opts.seconds));
      } catch (err) {
        results.push({ workers, arrivalsPerSecond: rate, error: (err as Error).message });
      }
    }
  }
  if (results.every((r) => 'error' in r)) throw new Error(`every point failed; the first: ${(results[0] as FailedPoint).error}`);
  return {
    name: 'EndToEndLatency',
    unit: 'µs from intended event time to client receipt',
    symbols: SYMBOLS,
    connections: CONNECTIONS,
    symbolsPerConnection: SYMBOLS_PER_CONNECTION,
    clientProcesses: CLIENT_PROCESSES,
    warmupSeconds: WARMUP_MS / 1000,
    results,
  };
}

if (require.main === module) runStandalone(run, 5);
