import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { loadAverage, machineBusySeconds, processCpuSeconds, round } from '../system';
import { peerVersion } from '../peers';
import { expectMessage, LatencySummary, mergeHistograms, nowMicros, ratio, sleepUntil, startClients, stopChildren } from './child-processes';
import type { HttpClientMessage, HttpParentMessage, HttpResultMessage, HttpStartMessage } from './http-load-protocol';
import type { HttpPeerKind, PeerServerMessage, ServeMessage } from './http-peer-server';
import { DataDir } from './data-dir';
import { threadCores, threadReadings } from './process-readings';
import { delay, ServerProcess } from './server-process';
import { runWrk, wrkAvailable, WrkResult } from './wrk';
import { commandOption, runStandalone } from '../standalone';

/**
 * RestOpenLoop: latency of REST snapshot requests at a fixed offered rate, open loop, against
 * bookcast and two reference servers answering a fixed body of the same size, in one run:
 *
 *   bookcast latest     GET /api/v1/market-data/BTC-USD/latest
 *   bookcast orderbook  GET /api/v1/market/BTC-USD/orderbook?depth=20
 *   uWS fixed body      bare uWebSockets.js (bookcast's own library): the ceiling
 *   Fastify fixed body  a peer Node framework
 *
 * The fixed body is bookcast's own order-book answer, taken once the book has 20 levels a side.
 * Load: 2 processes (http-load-client.ts) × 16 keep-alive connections send requests on one
 * schedule, the overall rate spread evenly over them, pipelined when a connection is behind;
 * latency runs from each request's intended send time to its answer's last byte. Per rate: 1 s
 * of warm-up, then the measured window; after it the clients wait for the outstanding answers
 * (3 s at most; the rest count as timed out, recorded at their age then). Each target also gets
 * one closed-loop wrk run (1 thread, 32 connections) for its most answers per second.
 *
 * One server runs at a time, started for its targets and stopped after them. bookcast runs its
 * simulator on BTC/USD alone at 500 arrivals/s with one book worker, so its books move while
 * being read, and stores into a fresh embedded store (a temporary --data-dir); its CPU includes
 * that work.
 */

const CLIENT_PROCESSES = 2;
const CONNECTIONS_PER_PROCESS = 16;
const WARMUP_MS = 1000;
const GRACE_MS = 3000;
/** bookcast creates its embedded store on start: seconds on a busy machine. */
const START_TIMEOUT_MS = 60_000;
const SETUP_TIMEOUT_MS = 10_000;
const WRK_CONNECTIONS = 32;
const QUICK_RATES = [10_000, 30_000, 50_000];
const FULL_RATES = [10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000, 100_000];
/** A point is sustained when this share of the offered rate was answered in the window … */
const SUSTAINED_SHARE = 0.97;
/**
 * … without errors and with p90 under this (µs): a queue that builds moves the p90 by orders of
 * magnitude, where a stall of other users' work on a shared machine mostly moves the p99.
 */
const SUSTAINED_P90_US = 10_000;
/** The full sweep stops for a target after this many unsustained points in a row: past the knee. */
const FAILURES_TO_STOP = 2;
const BOOK_DEPTH = 20;
/** How long each server's CPU is watched with no load, before its first point. */
const IDLE_MS = 1000;
/**
 * Standalone, `--bookcast-args '--usage-accounting false'` adds arguments to bookcast's: to see
 * what a part of its work costs against the same ceiling, in one run.
 */
const BOOKCAST_ARGS = ['--port', '0', '--symbols', 'BTC/USD', '--rate', '500', '--workers', '1', ...(commandOption('--bookcast-args')?.split(' ').filter((a) => a !== '') ?? [])];
const CLIENT_SCRIPT = path.join(__dirname, 'http-load-client.js');
const PEER_SERVER_SCRIPT = path.join(__dirname, 'http-peer-server.js');

export type ServerKind = 'bookcast' | HttpPeerKind;

export interface Target {
  name: string;
  server: ServerKind;
  path: string;
  /** Extra request header lines (auth-overhead.ts: a key or a token). */
  headers?: string;
}

const ORDER_BOOK_PATH = `/api/v1/market/BTC-USD/orderbook?depth=${BOOK_DEPTH}`;
const TARGETS: readonly Target[] = [
  { name: 'bookcast latest', server: 'bookcast', path: '/api/v1/market-data/BTC-USD/latest' },
  { name: 'bookcast orderbook', server: 'bookcast', path: ORDER_BOOK_PATH },
  { name: 'uWS fixed body', server: 'uws', path: ORDER_BOOK_PATH },
  { name: 'Fastify fixed body', server: 'fastify', path: ORDER_BOOK_PATH },
];

/** A target server as this scenario uses it, whatever runs it. */
export interface RunningServer {
  host: string;
  port: number;
  pid: number;
  stop(): Promise<unknown>;
  killNow(): void;
}

export interface PointResult extends LatencySummary {
  target: string;
  offered: number;
  achieved: number;
  sustained: boolean;
  /** Due time to write: the load clients' own lateness plus any wait for pipeline room. */
  sendLagP50: number | null;
  sendLagP99: number | null;
  errors: number;
  errorDetail: string;
  serverCpuSeconds: number | null;
  serverCpuUsPerRequest: number | null;
  clientCpuSeconds: number;
  machineBusyCores: number | null;
}

interface FailedPoint {
  target: string;
  offered: number;
  error: string;
}

interface WrkRow extends Partial<WrkResult> {
  target: string;
  serverCpuSeconds?: number | null;
  /** The server's CPU µs per answer, per thread (schedstat, exact): where an answer's cost lies. */
  threadCpuUsPerAnswer?: Record<string, number>;
  error?: string;
}

async function startBookcast(): Promise<RunningServer> {
  const dataDir = new DataDir();
  try {
    const server = await ServerProcess.start([...BOOKCAST_ARGS, ...dataDir.args], START_TIMEOUT_MS);
    const stop = async () => {
      await server.stop();
      dataDir.remove();
    };
    const killNow = () => {
      server.killNow();
      dataDir.remove();
    };
    return { host: server.host, port: server.port, pid: server.pid, stop, killNow };
  } catch (err) {
    dataDir.remove();
    throw err;
  }
}

async function startPeerServer(kind: HttpPeerKind, body: string): Promise<RunningServer> {
  const child = fork(PEER_SERVER_SCRIPT, [kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const listening = expectMessage<PeerServerMessage, 'listening'>(child, 'listening', START_TIMEOUT_MS);
  child.send({ type: 'serve', body } satisfies ServeMessage);
  try {
    const { port } = await listening;
    return { host: '127.0.0.1', port, pid: child.pid!, stop: () => stopChildren([child]), killNow: () => child.kill('SIGKILL') };
  } catch (err) {
    await stopChildren([child]);
    throw err;
  }
}

/** The order book answer once the simulator has filled BOOK_DEPTH levels a side (10 s at most). */
async function orderBookBody(server: RunningServer): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await fetch(`http://${server.host}:${server.port}${ORDER_BOOK_PATH}`, { signal: AbortSignal.timeout(3000) });
    const text = await response.text();
    if (!response.ok) throw new Error(`order book answered ${response.status}: ${text}`);
    const book = JSON.parse(text) as { bids: unknown[]; asks: unknown[] };
    if ((book.bids.length >= BOOK_DEPTH && book.asks.length >= BOOK_DEPTH) || Date.now() > deadline) return text;
    await delay(250);
  }
}

/** Cores a server takes with no request: bookcast's engine keeps working (simulator, book worker, store). */
async function idleCpuCores(server: RunningServer): Promise<number | null> {
  const cpu0 = processCpuSeconds(server.pid);
  const at0 = performance.now();
  await delay(IDLE_MS);
  const cpu1 = processCpuSeconds(server.pid);
  return cpu0 === null || cpu1 === null ? null : round((cpu1 - cpu0) / ((performance.now() - at0) / 1000), 2);
}

function describeErrors(reports: readonly HttpResultMessage[]): { errors: number; errorDetail: string } {
  const kinds = ['non2xx', 'unsent', 'lost', 'timedOut', 'socketErrors', 'closed', 'protocolErrors'] as const;
  const parts: string[] = [];
  let errors = 0;
  for (const kind of kinds) {
    const n = reports.reduce((s, r) => s + r[kind], 0);
    if (n === 0) continue;
    errors += n;
    parts.push(`${kind} ${n}`);
  }
  return { errors, errorDetail: parts.join(', ') };
}

export async function point(server: RunningServer, target: Target, rate: number, seconds: number): Promise<PointResult> {
  const clients: ChildProcess[] = [];
  try {
    const start: HttpStartMessage = { type: 'start', host: server.host, port: server.port, path: target.path, headers: target.headers, connections: CONNECTIONS_PER_PROCESS, setupTimeoutMs: SETUP_TIMEOUT_MS };
    await startClients(CLIENT_SCRIPT, Array.from({ length: CLIENT_PROCESSES }, () => start), clients);

    const t0Us = nowMicros() + 50_000;
    const startUs = t0Us + WARMUP_MS * 1000;
    const endUs = startUs + seconds * 1e6;
    const results = clients.map((c) => expectMessage<HttpClientMessage, 'result'>(c, 'result', WARMUP_MS + seconds * 1000 + GRACE_MS + 10_000));
    // A rejection is handled when the results are awaited; do not let it count as unhandled.
    for (const r of results) r.catch(() => undefined);
    clients.forEach((c, p) =>
      c.send({ type: 'run', t0Us, rate, processIndex: p, processCount: CLIENT_PROCESSES, startUs, endUs, graceMs: GRACE_MS } satisfies HttpParentMessage),
    );

    await sleepUntil(startUs);
    const cpu0 = processCpuSeconds(server.pid);
    const busy0 = machineBusySeconds();
    await sleepUntil(endUs);
    const cpu1 = processCpuSeconds(server.pid);
    const busy1 = machineBusySeconds();
    const reports = await Promise.all(results);

    const sum = (f: (r: HttpResultMessage) => number) => reports.reduce((s, r) => s + f(r), 0);
    const latency = mergeHistograms(reports.map((r) => r.histogram));
    const sendLag = mergeHistograms(reports.map((r) => r.sendLagHistogram));
    const answeredInWindow = sum((r) => r.answeredInWindow);
    const achieved = Math.round(answeredInWindow / seconds);
    const { errors, errorDetail } = describeErrors(reports);
    const serverCpuSeconds = cpu0 === null || cpu1 === null ? null : round(cpu1 - cpu0, 2);
    return {
      target: target.name,
      offered: rate,
      achieved,
      sustained: achieved >= rate * SUSTAINED_SHARE && errors === 0 && latency.p90 !== null && latency.p90 <= SUSTAINED_P90_US,
      ...latency,
      sendLagP50: sendLag.p50,
      sendLagP99: sendLag.p99,
      errors,
      errorDetail,
      serverCpuSeconds,
      serverCpuUsPerRequest: serverCpuSeconds === null || answeredInWindow === 0 ? null : round((serverCpuSeconds * 1e6) / answeredInWindow, 1),
      clientCpuSeconds: round(sum((r) => r.cpuSeconds), 2),
      machineBusyCores: busy0 === null || busy1 === null ? null : round((busy1 - busy0) / seconds, 2),
    };
  } finally {
    await stopChildren(clients);
  }
}

async function wrkRow(server: RunningServer, target: Target, seconds: number): Promise<WrkRow> {
  try {
    const cpu0 = processCpuSeconds(server.pid);
    const threads0 = threadReadings(server.pid);
    const result = await runWrk(`http://${server.host}:${server.port}${target.path}`, seconds, WRK_CONNECTIONS);
    const cpu1 = processCpuSeconds(server.pid);
    const perAnswer: Record<string, number> = {};
    // Over a window of 1 s, a thread's cores are its CPU seconds.
    for (const t of threadCores(threads0, threadReadings(server.pid), server.pid, 1)) {
      if (t.cores > 0) perAnswer[t.name] = round((t.cores * 1e6) / result.requests, 2);
    }
    return { target: target.name, ...result, serverCpuSeconds: cpu0 === null || cpu1 === null ? null : round(cpu1 - cpu0, 2), threadCpuUsPerAnswer: perAnswer };
  } catch (err) {
    return { target: target.name, error: (err as Error).message };
  }
}

const isPoint = (p: PointResult | FailedPoint): p is PointResult => !('error' in p);

/** The highest offered rate sustained, for each target (null: none was). */
function knees(points: readonly (PointResult | FailedPoint)[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const target of TARGETS) {
    const sustained = points.filter((p): p is PointResult => p.target === target.name && isPoint(p) && p.sustained);
    out[target.name] = sustained.length === 0 ? null : Math.max(...sustained.map((p) => p.offered));
  }
  return out;
}

function ratios(points: readonly (PointResult | FailedPoint)[], wrk: readonly WrkRow[], firstRate: number): Record<string, Record<string, number | null>> {
  const kneeOf = knees(points);
  const wrkOf = (name: string) => wrk.find((w) => w.target === name)?.requestsPerSecond;
  const cpuOf = (name: string) => points.find((p): p is PointResult => p.target === name && p.offered === firstRate && isPoint(p))?.serverCpuUsPerRequest;
  const out: Record<string, Record<string, number | null>> = {};
  for (const mine of ['bookcast latest', 'bookcast orderbook']) {
    for (const [peer, label] of [
      ['uWS fixed body', 'uWS'],
      ['Fastify fixed body', 'Fastify'],
    ]) {
      out[`${mine} vs ${label}`] = {
        wrkThroughput: ratio(wrkOf(mine), wrkOf(peer)),
        sustainedRate: ratio(kneeOf[mine], kneeOf[peer]),
        serverCpuPerRequest: ratio(cpuOf(mine), cpuOf(peer)),
      };
    }
  }
  return out;
}

async function startServer(kind: ServerKind, body: string): Promise<RunningServer> {
  if (kind === 'bookcast') return startBookcast();
  // Their body is bookcast's answer: without it there is nothing of the same size to compare.
  if (body === '') throw Object.assign(new Error('no body to serve: bookcast gave no order book answer'), { code: 'BENCH_NO_BODY' });
  return startPeerServer(kind, body);
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const rates = opts.full ? FULL_RATES : QUICK_RATES;
  const points: (PointResult | FailedPoint)[] = [];
  const wrk: WrkRow[] = [];
  const skipped: Record<string, string> = {};
  const idleCores: Record<string, number | null> = {};
  const useWrk = wrkAvailable();
  let body = '';
  let current: RunningServer | null = null;
  // An exception that ends this process must not leave a server behind.
  const guard = () => current?.killNow();
  process.on('exit', guard);
  try {
    for (const kind of ['bookcast', 'uws', 'fastify'] as const) {
      try {
        current = await startServer(kind, body);
      } catch (err) {
        for (const t of TARGETS.filter((t) => t.server === kind)) skipped[t.name] = (err as Error).message.split('\n')[0];
        continue;
      }
      try {
        if (kind === 'bookcast') body = await orderBookBody(current);
        idleCores[kind] = await idleCpuCores(current);
        for (const target of TARGETS.filter((t) => t.server === kind)) {
          let failuresInRow = 0;
          for (const rate of rates) {
            let result: PointResult | FailedPoint;
            try {
              result = await point(current, target, rate, opts.seconds);
            } catch (err) {
              result = { target: target.name, offered: rate, error: (err as Error).message };
            }
            points.push(result);
            failuresInRow = isPoint(result) && result.sustained ? 0 : failuresInRow + 1;
            if (opts.full && failuresInRow >= FAILURES_TO_STOP) break;
          }
          if (useWrk) wrk.push(await wrkRow(current, target, opts.seconds));
        }
      } finally {
        await current.stop();
        current = null;
      }
    }
  } finally {
    process.off('exit', guard);
  }
  if (!points.some(isPoint)) throw new Error(`every point failed: ${JSON.stringify(points[0] ?? skipped)}`);
  return {
    name: 'RestOpenLoop',
    unit: 'µs from intended send time to the answer, open loop',
    clientProcesses: CLIENT_PROCESSES,
    connections: CLIENT_PROCESSES * CONNECTIONS_PER_PROCESS,
    warmupSeconds: WARMUP_MS / 1000,
    bodyBytes: Buffer.byteLength(body),
    bookcastArgs: BOOKCAST_ARGS.join(' '),
    fastify: peerVersion('fastify') ?? 'not installed',
    sustainedMeans: `answered ≥ ${SUSTAINED_SHARE * 100}% of offered, no error, p90 ≤ ${SUSTAINED_P90_US} µs`,
    skipped,
    serverIdleCores: idleCores,
    loadAverageEnd: loadAverage(),
    points,
    wrk: useWrk ? wrk : 'skipped: /usr/bin/wrk not found (Debian package wrk)',
    sustainedRate: knees(points),
    ratios: ratios(points, wrk, rates[0]),
  };
}

if (require.main === module) runStandalone(run, 3);
