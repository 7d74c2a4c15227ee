import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { loadAverage, machineBusySeconds, processCpuSeconds, round } from '../system';
import type { ClientMessage, ConnectionPlan, ParentMessage, ResultMessage } from './client-protocol';
import { Health, ServerProcess, within } from './server-process';
import { DataDir } from './data-dir';
import { expectMessage, nowMicros, sleepUntil } from './child-processes';

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
const WARMUP_MS = 2000;
const GRACE_MS = 5000;
const START_TIMEOUT_MS = 20_000;
const SETUP_TIMEOUT_MS = 20_000;
const CLIENT_SCRIPT = path.join(__dirname, 'latency-client.js');

interface PointResult {
  workers: number;
  arrivalsPerSecond: number;
  seconds: number;
  eventsAppliedPerSecond: number;
  publishedPerSecond: number;
  deliveriesPerSecond: number;
  updates: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  gaps: number;
  resyncs: number;
  disconnects: number;
  lateStreams: number;
  negativeLatencies: number;
  errors: Record<string, number>;
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

function symbolName(index: number): string {
  return `SIM${String(index + 1).padStart(3, '0')}/USD`;
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

function accepted(health: Health): number {
  return health.workers.reduce((sum, w) => sum + w.accepted, 0);
}

async function stopClients(clients: ChildProcess[]): Promise<void> {
  await Promise.all(
    clients.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      if (!(await within(exited, 3000))) child.kill('SIGKILL');
    }),
  );
}

async function point(workers: number, rate: number, seconds: number): Promise<PointResult> {
  const dataDir = new DataDir();
  const server = await ServerProcess.start(
    ['--port', '0', '--symbols', '', '--symbol-count', String(SYMBOLS), '--rate', String(rate), '--workers', String(workers), ...dataDir.args],
    START_TIMEOUT_MS,
  );
  const clients: ChildProcess[] = [];
  // An exception that ends this process must not leave the server or the clients behind.
  const guard = () => {
    server.killNow();
    for (const c of clients) c.kill('SIGKILL');
  };
  process.on('exit', guard);
  try {
    for (const connections of plans()) {
      const child = fork(CLIENT_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      clients.push(child);
      child.send({ type: 'start', url: server.url, connections, depth: DEPTH, setupTimeoutMs: SETUP_TIMEOUT_MS } satisfies ParentMessage);
    }
    await Promise.all(clients.map((c) => expectMessage<ClientMessage, 'ready'>(c, 'ready', SETUP_TIMEOUT_MS + 5000)));

    const startUs = nowMicros() + WARMUP_MS * 1000;
    const endUs = startUs + seconds * 1e6;
    const results = clients.map((c) => expectMessage<ClientMessage, 'result'>(c, 'result', WARMUP_MS + seconds * 1000 + GRACE_MS + 10_000));
    // A rejection is handled when the results are awaited; do not let it count as unhandled.
    for (const r of results) r.catch(() => undefined);
    for (const c of clients) c.send({ type: 'measure', startUs, endUs, graceMs: GRACE_MS } satisfies ParentMessage);

    await sleepUntil(startUs);
    const health0 = await server.health();
    const at0 = nowMicros();
    const serverCpu0 = processCpuSeconds(server.pid);
    const busy0 = machineBusySeconds();
    await sleepUntil(endUs);
    const health1 = await server.health();
    const at1 = nowMicros();
    const serverCpu1 = processCpuSeconds(server.pid);
    const busy1 = machineBusySeconds();
    const load = loadAverage();
    const reports: ResultMessage[] = await Promise.all(results);

    const merged = hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
    const errors: Record<string, number> = {};
    let messages = 0;
    for (const r of reports) {
      const h = hdr.decodeFromCompressedBase64(r.histogram, 32);
      merged.add(h);
      h.destroy();
      messages += r.messages;
      for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
    }
    const healthSeconds = (at1 - at0) / 1e6;
    const sum = (f: (r: ResultMessage) => number) => reports.reduce((s, r) => s + f(r), 0);
    const result: PointResult = {
      workers,
      arrivalsPerSecond: rate,
      seconds,
      eventsAppliedPerSecond: Math.round((accepted(health1) - accepted(health0)) / healthSeconds),
      publishedPerSecond: Math.round((health1.published - health0.published) / healthSeconds),
      deliveriesPerSecond: Math.round(messages / seconds),
      updates: merged.totalCount,
      p50: merged.getValueAtPercentile(50),
      p90: merged.getValueAtPercentile(90),
      p99: merged.getValueAtPercentile(99),
      p999: merged.getValueAtPercentile(99.9),
      max: merged.maxValue,
      mean: Math.round(merged.mean),
      gaps: sum((r) => r.gaps),
      resyncs: sum((r) => r.resyncs),
      disconnects: sum((r) => r.disconnects),
      lateStreams: sum((r) => r.lateStreams),
      negativeLatencies: sum((r) => r.negative),
      errors,
      serverCpuSeconds: serverCpu0 === null || serverCpu1 === null ? null : round(serverCpu1 - serverCpu0, 2),
      clientCpuSeconds: round(sum((r) => r.cpuSeconds), 2),
      machineBusyCores: busy0 === null || busy1 === null ? null : round((busy1 - busy0) / healthSeconds, 2),
      loadAverage: load,
    };
    merged.destroy();
    return result;
  } catch (err) {
    const e = err as Error;
    e.message += `\n--- server output ---\n${server.recentOutput}`;
    throw e;
  } finally {
    await stopClients(clients);
    await server.stop();
    dataDir.remove();
    process.off('exit', guard);
  }
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

if (require.main === module) {
  const seconds = Number(process.argv[2] ?? 5);
  run({ seconds, full: process.argv.includes('--full') }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
