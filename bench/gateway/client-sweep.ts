import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { loadAverage, machineBusySeconds, processCpuSeconds, round } from '../system';
import { expectMessage, LatencySummary, mergeHistograms, nowMicros, sleepUntil, stopChildren } from './child-processes';
import type { ClientMessage, ConnectionPlan, ParentMessage, ResultMessage } from './client-protocol';
import { DataDir } from './data-dir';
import { guardChildren } from './exit-guard';
import { delay, Health, ServerProcess } from './server-process';

/**
 * ClientSweep: open-loop end-to-end latency (simulator's intended arrival time → decoded update
 * in a client process) against the number of clients and against the rate. The server runs as
 * its own process (`--symbols '' --symbol-count 100 --rate R --workers 1`, fresh --data-dir),
 * one per point; every client is one connection subscribed to L2 depth 10 of one symbol in
 * FlatBuffers (client i: symbol i % 100), held by latency-client.ts processes (2, or 1 for a
 * single client), so each symbol has clients/100 subscribers from 100 clients on.
 *
 *   client counts  1, 100, 1,000 (quick) and 10,000 (full) at a fixed 10,000 arrivals/s
 *                  (~11k L2 messages/s; deliveries ≈ 110/s per client)
 *   rate sweep     100 clients at 10%, 25%, 50%, 75%, 100% (full: every 10%) of a maximum found
 *                  first by a probe: the server offered 500,000 arrivals/s with the 100 clients
 *                  attached; the events its workers applied per second over 2 s, divided by the
 *                  events per arrival seen at the fixed rate, is the maximum in arrivals/s
 *
 * An arrival is one simulated order; it becomes about 1.2 book events (a marketable order also
 * executes the orders it meets), and the health endpoint counts events. Events per arrival is
 * read off the client-count points (the median of applied/offered: the fixed rate is far below
 * saturation, and the median ignores one saturated point), and turns events into arrivals.
 *
 * Per point: 2 s of warm-up, the measured window (by intended time), then up to 5 s for every
 * stream to deliver past it. Reported: p50/p90/p99/p99.9/max µs, events applied and L2 messages
 * published per second (health endpoint), deliveries per second, gaps, resyncs, disconnects,
 * late streams, server CPU, client CPU, the machine's busy cores. A point is *behind* when the
 * workers applied under 95% of the offered rate, clients received under 95% of what was published
 * to them, a stream had not caught up 5 s after the window, or a connection was resynchronised
 * or dropped. The knee of the rate sweep is the first rate behind, or whose p99 exceeds 10× the
 * lowest rate's.
 */

const SYMBOLS = 100;
const DEPTH = 10;
const WORKERS = 1;
const CLIENT_PROCESSES = 2;
const FIXED_RATE = 10_000;
const QUICK_CLIENTS: readonly number[] = [1, 100, 1000];
const FULL_CLIENTS: readonly number[] = [1, 100, 1000, 10_000];
const SWEEP_CLIENTS = 100;
const QUICK_FRACTIONS: readonly number[] = [0.1, 0.25, 0.5, 0.75, 1];
const FULL_FRACTIONS: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
/** Far above what one worker applies with streams active (0.3–0.5 M events/s measured). */
const PROBE_RATE = 500_000;
const PROBE_SETTLE_MS = 1000;
const PROBE_MS = 2000;
/** The sweep's maximum is never below this, however slow the probe found the server. */
const MIN_MAX_RATE = 5000;
const KEPT_UP_SHARE = 0.95;
const KNEE_FACTOR = 10;
const WARMUP_MS = 2000;
const GRACE_MS = 5000;
/** bookcast creates its embedded store on start: seconds on a busy machine. */
const START_TIMEOUT_MS = 60_000;
const SETUP_TIMEOUT_MS = 60_000;
const CLIENT_SCRIPT = path.join(__dirname, 'latency-client.js');

interface Row extends LatencySummary {
  clients: number;
  arrivalsPerSecond: number;
  eventsAppliedPerSecond: number;
  /** Events applied over the events the offered arrivals make (× events per arrival); null until that is known. */
  appliedShare: number | null;
  /** L2 messages/s published to topics (each goes to every subscriber of its symbol). */
  publishedPerSecond: number;
  deliveriesPerSecond: number;
  /** Deliveries over published × subscribers per symbol. */
  deliveredShare: number | null;
  gaps: number;
  resyncs: number;
  disconnects: number;
  lateStreams: number;
  negativeLatencies: number;
  errors: Record<string, number>;
  serverCpuCores: number | null;
  clientCpuSeconds: number;
  machineBusyCores: number | null;
  loadAverage: number[];
  /** Why the point counts as behind; null when it kept up. */
  behind: string | null;
}

interface FailedRow {
  clients: number;
  arrivalsPerSecond: number;
  error: string;
}

type RateRow = (Row | FailedRow) & { fraction: number };

interface Probe {
  offered: number;
  eventsAppliedPerSecond: number;
  publishedPerSecond: number;
}

const isRow = (r: Row | FailedRow): r is Row => !('error' in r);

function symbolName(index: number): string {
  return `SIM${String(index + 1).padStart(3, '0')}/USD`;
}

function accepted(health: Health): number {
  return health.workers.reduce((sum, w) => sum + w.accepted, 0);
}

/** Client i follows symbol i % 100; connections are dealt round-robin to the client processes. */
function plans(clients: number): ConnectionPlan[][] {
  const processes = Math.min(CLIENT_PROCESSES, clients);
  const perProcess: ConnectionPlan[][] = Array.from({ length: processes }, () => []);
  for (let i = 0; i < clients; i++) perProcess[i % processes].push({ symbols: [symbolName(i % SYMBOLS)] });
  return perProcess;
}

/**
 * A server at `rate` with `clients` subscribed and ready; `body` gets them, and whatever happens
 * the clients, the server and its data directory are gone afterwards.
 */
async function withServer<T>(rate: number, clients: number, body: (server: ServerProcess, children: ChildProcess[]) => Promise<T>): Promise<T> {
  const dataDir = new DataDir();
  let server: ServerProcess;
  try {
    server = await ServerProcess.start(
      ['--port', '0', '--symbols', '', '--symbol-count', String(SYMBOLS), '--rate', String(rate), '--workers', String(WORKERS), ...dataDir.args],
      START_TIMEOUT_MS,
    );
  } catch (err) {
    dataDir.remove();
    throw err;
  }
  const children: ChildProcess[] = [];
  const unguard = guardChildren(() => {
    server.killNow();
    for (const c of children) c.kill('SIGKILL');
    dataDir.remove();
  });
  try {
    for (const connections of plans(clients)) {
      const child = fork(CLIENT_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      child.send({ type: 'start', url: server.url, connections, depth: DEPTH, setupTimeoutMs: SETUP_TIMEOUT_MS } satisfies ParentMessage);
    }
    await Promise.all(children.map((c) => expectMessage<ClientMessage, 'ready'>(c, 'ready', SETUP_TIMEOUT_MS + 5000)));
    return await body(server, children);
  } catch (err) {
    const e = err as Error;
    e.message += `\n--- server output ---\n${server.recentOutput}`;
    throw e;
  } finally {
    await stopChildren(children);
    await server.stop();
    dataDir.remove();
    unguard();
  }
}

function point(clients: number, rate: number, seconds: number): Promise<Row> {
  return withServer(rate, clients, async (server, children) => {
    const startUs = nowMicros() + WARMUP_MS * 1000;
    const endUs = startUs + seconds * 1e6;
    const results = children.map((c) => expectMessage<ClientMessage, 'result'>(c, 'result', WARMUP_MS + seconds * 1000 + GRACE_MS + 15_000));
    // A rejection is handled when the results are awaited; do not let it count as unhandled.
    for (const r of results) r.catch(() => undefined);
    for (const c of children) c.send({ type: 'measure', startUs, endUs, graceMs: GRACE_MS } satisfies ParentMessage);
    await sleepUntil(startUs);
    const health0 = await server.health();
    const at0 = nowMicros();
    const cpu0 = processCpuSeconds(server.pid);
    const busy0 = machineBusySeconds();
    await sleepUntil(endUs);
    const health1 = await server.health();
    const at1 = nowMicros();
    const cpu1 = processCpuSeconds(server.pid);
    const busy1 = machineBusySeconds();
    const load = loadAverage();
    const reports: ResultMessage[] = await Promise.all(results);

    const windowSeconds = (at1 - at0) / 1e6;
    const sum = (f: (r: ResultMessage) => number) => reports.reduce((s, r) => s + f(r), 0);
    const delivered = sum((r) => r.messages);
    const errors: Record<string, number> = {};
    for (const r of reports) for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
    const applied = (accepted(health1) - accepted(health0)) / windowSeconds;
    const published = (health1.published - health0.published) / windowSeconds;
    const expected = published * (clients / Math.min(clients, SYMBOLS));
    const deliveredShare = expected === 0 ? null : round(delivered / seconds / expected, 3);
    return {
      clients,
      arrivalsPerSecond: rate,
      eventsAppliedPerSecond: Math.round(applied),
      appliedShare: null,
      publishedPerSecond: Math.round(published),
      deliveriesPerSecond: Math.round(delivered / seconds),
      deliveredShare,
      ...mergeHistograms(reports.map((r) => r.histogram)),
      gaps: sum((r) => r.gaps),
      resyncs: sum((r) => r.resyncs),
      disconnects: sum((r) => r.disconnects),
      lateStreams: sum((r) => r.lateStreams),
      negativeLatencies: sum((r) => r.negative),
      errors,
      serverCpuCores: cpu0 === null || cpu1 === null ? null : round((cpu1 - cpu0) / windowSeconds, 2),
      clientCpuSeconds: round(sum((r) => r.cpuSeconds), 2),
      machineBusyCores: busy0 === null || busy1 === null ? null : round((busy1 - busy0) / windowSeconds, 2),
      loadAverage: load,
      behind: null,
    };
  });
}

/** Sets appliedShare and behind, now that events per arrival is known. */
function judge(r: Row | FailedRow, eventsPerArrival: number): void {
  if (!isRow(r)) return;
  r.appliedShare = round(r.eventsAppliedPerSecond / (r.arrivalsPerSecond * eventsPerArrival), 3);
  r.behind = behindReason(r, r.appliedShare);
}

function behindReason(r: Row, appliedShare: number): string | null {
  const reasons: string[] = [];
  if (appliedShare < KEPT_UP_SHARE) reasons.push(`workers applied ${appliedShare} of the offered events`);
  if (r.deliveredShare !== null && r.deliveredShare < KEPT_UP_SHARE) reasons.push(`clients received ${r.deliveredShare} of what was published to them`);
  if (r.lateStreams > 0) reasons.push(`${r.lateStreams} streams not caught up ${GRACE_MS / 1000} s after the window`);
  if (r.resyncs > 0) reasons.push(`${r.resyncs} resyncs`);
  if (r.disconnects > 0) reasons.push(`${r.disconnects} disconnects`);
  return reasons.length === 0 ? null : reasons.join('; ');
}

/** What the workers apply per second when offered far more than they can, with the sweep's clients attached. */
function probe(): Promise<Probe> {
  return withServer(PROBE_RATE, SWEEP_CLIENTS, async (server) => {
    await delay(PROBE_SETTLE_MS);
    const health0 = await server.health();
    const at0 = nowMicros();
    await delay(PROBE_MS);
    const health1 = await server.health();
    const seconds = (nowMicros() - at0) / 1e6;
    return {
      offered: PROBE_RATE,
      eventsAppliedPerSecond: Math.round((accepted(health1) - accepted(health0)) / seconds),
      publishedPerSecond: Math.round((health1.published - health0.published) / seconds),
    };
  });
}

/** Rounded down to two significant digits: rates a reader can repeat. */
function roundRate(rate: number): number {
  const scale = 10 ** Math.max(0, Math.floor(Math.log10(rate)) - 1);
  return Math.floor(rate / scale) * scale;
}

function knee(rows: readonly RateRow[]): { arrivalsPerSecond: number; fraction: number; reason: string } | null {
  const measured = rows.filter((r): r is Row & { fraction: number } => isRow(r) && r.p99 !== null);
  if (measured.length === 0) return null;
  const base = measured[0].p99!;
  for (const r of measured) {
    if (r.behind !== null) return { arrivalsPerSecond: r.arrivalsPerSecond, fraction: r.fraction, reason: `behind: ${r.behind}` };
    if (r.p99! > KNEE_FACTOR * base) return { arrivalsPerSecond: r.arrivalsPerSecond, fraction: r.fraction, reason: `p99 ${r.p99} µs > ${KNEE_FACTOR}× ${base} µs` };
  }
  return null;
}

const n = (value: number | null): string => (value === null ? '—' : value.toLocaleString('en-US'));

function table(first: string, rows: readonly (Row | FailedRow)[], label: (r: Row | FailedRow) => string): string[] {
  const lines = [
    `| ${first} | p50 | p90 | p99 | p99.9 | max (µs) | deliveries/s | server cores | busy cores | behind |`,
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    if (!isRow(r)) {
      lines.push(`| ${label(r)} | FAILED: ${r.error.split('\n')[0]} | | | | | | | | |`);
      continue;
    }
    lines.push(`| ${label(r)} | ${n(r.p50)} | ${n(r.p90)} | ${n(r.p99)} | ${n(r.p999)} | ${n(r.max)} | ${n(r.deliveriesPerSecond)} | ${r.serverCpuCores ?? '—'} | ${r.machineBusyCores ?? '—'} | ${r.behind ?? 'no'} |`);
  }
  return lines;
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const clientCounts = opts.full ? FULL_CLIENTS : QUICK_CLIENTS;
  const fractions = opts.full ? FULL_FRACTIONS : QUICK_FRACTIONS;

  const countRows: (Row | FailedRow)[] = [];
  for (const clients of clientCounts) {
    try {
      countRows.push(await point(clients, FIXED_RATE, opts.seconds));
    } catch (err) {
      countRows.push({ clients, arrivalsPerSecond: FIXED_RATE, error: (err as Error).message });
    }
  }

  const ratios = countRows.filter(isRow).map((r) => r.eventsAppliedPerSecond / r.arrivalsPerSecond).sort((a, b) => a - b);
  const eventsPerArrival = ratios.length === 0 ? null : round(ratios[ratios.length >> 1], 3);
  let probed: Probe | { error: string };
  try {
    if (eventsPerArrival === null) throw new Error('no client-count point to learn events per arrival from');
    probed = await probe();
  } catch (err) {
    probed = { error: (err as Error).message };
  }
  const maxRate = 'error' in probed ? null : Math.max(MIN_MAX_RATE, roundRate(probed.eventsAppliedPerSecond / eventsPerArrival!));
  const rateRows: RateRow[] = [];
  if (maxRate !== null) {
    for (const fraction of fractions) {
      const rate = roundRate(maxRate * fraction);
      try {
        rateRows.push({ fraction, ...(await point(SWEEP_CLIENTS, rate, opts.seconds)) });
      } catch (err) {
        rateRows.push({ fraction, clients: SWEEP_CLIENTS, arrivalsPerSecond: rate, error: (err as Error).message });
      }
    }
  }
  if (![...countRows, ...rateRows].some(isRow)) throw new Error(`every point failed; the first: ${(countRows[0] as FailedRow).error}`);
  for (const r of [...countRows, ...rateRows]) judge(r, eventsPerArrival!);
  return {
    name: 'ClientSweep',
    unit: 'µs from intended event time to client receipt',
    server: `--symbols '' --symbol-count ${SYMBOLS} --workers ${WORKERS}`,
    subscription: `client i: L2 depth ${DEPTH} of symbol i % ${SYMBOLS}, FlatBuffers, one connection each`,
    clientProcesses: CLIENT_PROCESSES,
    warmupSeconds: WARMUP_MS / 1000,
    eventsPerArrival,
    clientCounts: {
      arrivalsPerSecond: FIXED_RATE,
      rows: countRows,
      table: table('Clients', countRows, (r) => n(r.clients)),
    },
    rateSweep: {
      clients: SWEEP_CLIENTS,
      probe: probed,
      maxRate,
      rows: rateRows,
      table: table('Arrivals/s (% of max)', rateRows, (r) => `${n(r.arrivalsPerSecond)} (${Math.round((r as RateRow).fraction * 100)}%)`),
      knee: knee(rateRows),
    },
    loadAverageEnd: loadAverage(),
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
