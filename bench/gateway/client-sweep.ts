import type { ChildProcess } from 'node:child_process';
import { loadAverage, round } from '../system';
import { runStandalone } from '../standalone';
import { withLatencyClients } from './bookcast-session';
import { LatencySummary, MAX_CONNECTIONS_PER_PROCESS, nowMicros } from './child-processes';
import type { ClientMessage, ConnectionPlan } from './client-protocol';
import { acceptedEvents, delay, Health, ServerProcess, symbolName } from './server-process';
import { GRACE_MS, measureWindow, StreamCounts, sumReports, WARMUP_MS } from './window';

/**
 * ClientSweep: open-loop end-to-end latency (simulator's intended arrival time → decoded update
 * in a client process) against the number of clients and against the rate. The server runs as
 * its own process (`--symbols '' --symbol-count 100 --rate R --workers 1`, fresh --data-dir),
 * one per point; every client is one connection subscribed to L2 depth 10 of one symbol in
 * FlatBuffers (client i: symbol i % 100), held by latency-client.ts processes (2, or 1 for a
 * single client; more past 8,000 clients, at most 4,000 connections each, every process from
 * its own source address 127.0.0.2, .3, … as in connections-held.ts), so each symbol has
 * clients/100 subscribers from 100 clients on.
 *
 *   client counts  1, 100, 1,000 (quick) and 10,000 (full) at a fixed 10,000 arrivals/s
 *                  (~11k L2 messages/s; deliveries ≈ 110/s per client), and (full) 10,000 at
 *                  1,000 arrivals/s: 10,000 clients at the fixed rate make ~1.1M deliveries/s,
 *                  more than Node client processes on 2 shared cores can receive, so that point
 *                  measures the clients; at a tenth of the rate they receive what 1,000 clients
 *                  do at the fixed rate, and the row shows what ten times the sockets cost
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
interface CountPoint {
  clients: number;
  arrivalsPerSecond: number;
}

const QUICK_COUNTS: readonly CountPoint[] = [1, 100, 1000].map((clients) => ({ clients, arrivalsPerSecond: FIXED_RATE }));
const FULL_COUNTS: readonly CountPoint[] = [
  ...QUICK_COUNTS,
  { clients: 10_000, arrivalsPerSecond: FIXED_RATE },
  { clients: 10_000, arrivalsPerSecond: FIXED_RATE / 10 },
];
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
/** 10,000 connections open in ~10 s on a quiet machine; a busy one takes several times that. */
const SETUP_TIMEOUT_MS = 60_000;

interface Row extends LatencySummary, StreamCounts {
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

/** Client i follows symbol i % 100; connections are dealt round-robin to the client processes. */
function plans(clients: number): ConnectionPlan[][] {
  const processes = Math.max(Math.min(CLIENT_PROCESSES, clients), Math.ceil(clients / MAX_CONNECTIONS_PER_PROCESS));
  const perProcess: ConnectionPlan[][] = Array.from({ length: processes }, () => []);
  for (let i = 0; i < clients; i++) perProcess[i % processes].push({ symbols: [symbolName(i % SYMBOLS)] });
  return perProcess;
}

/** A server at `rate` with `clients` subscribed and ready for `body`; gone afterwards, whatever happens. */
function withServer<T>(rate: number, clients: number, body: (server: ServerProcess, children: ChildProcess[]) => Promise<T>): Promise<T> {
  return withLatencyClients({ symbols: SYMBOLS, rate, workers: WORKERS }, { processes: plans(clients), depth: DEPTH, setupTimeoutMs: SETUP_TIMEOUT_MS }, body);
}

function point(clients: number, rate: number, seconds: number): Promise<Row> {
  return withServer(rate, clients, async (server, children) => {
    const window = await measureWindow<ClientMessage, 'result', Health>(children, 'result', { seconds, serverPid: server.pid, probe: () => server.health() });
    const [health0, health1] = window.probed!;
    const { messages, bytes: _bytes, ...latencyAndCounts } = sumReports(window.reports);
    const applied = (acceptedEvents(health1) - acceptedEvents(health0)) / window.seconds;
    const published = (health1.published - health0.published) / window.seconds;
    const expected = published * (clients / Math.min(clients, SYMBOLS));
    const deliveredShare = expected === 0 ? null : round(messages / seconds / expected, 3);
    return {
      clients,
      arrivalsPerSecond: rate,
      eventsAppliedPerSecond: Math.round(applied),
      appliedShare: null,
      publishedPerSecond: Math.round(published),
      deliveriesPerSecond: Math.round(messages / seconds),
      deliveredShare,
      ...latencyAndCounts,
      serverCpuCores: window.serverCpuSeconds === null ? null : round(window.serverCpuSeconds / window.seconds, 2),
      clientCpuSeconds: round(window.reports.reduce((s, r) => s + r.cpuSeconds, 0), 2),
      machineBusyCores: window.machineBusyCores,
      loadAverage: window.loadAverage,
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
      eventsAppliedPerSecond: Math.round((acceptedEvents(health1) - acceptedEvents(health0)) / seconds),
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
  const countPoints = opts.full ? FULL_COUNTS : QUICK_COUNTS;
  const fractions = opts.full ? FULL_FRACTIONS : QUICK_FRACTIONS;

  const countRows: (Row | FailedRow)[] = [];
  for (const { clients, arrivalsPerSecond } of countPoints) {
    try {
      countRows.push(await point(clients, arrivalsPerSecond, opts.seconds));
    } catch (err) {
      countRows.push({ clients, arrivalsPerSecond, error: (err as Error).message });
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
      table: table('Clients', countRows, (r) => (r.arrivalsPerSecond === FIXED_RATE ? n(r.clients) : `${n(r.clients)} (${n(r.arrivalsPerSecond)} arrivals/s)`)),
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

if (require.main === module) runStandalone(run, 5);
