import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { loadAverage, processCpuSeconds, round } from '../system';
import { runStandalone } from '../standalone';
import { OPEN_CONCURRENCY } from './bench-client';
import { withBookcast } from './bookcast-session';
import { expectMessage, LatencySummary, MAX_CONNECTIONS_PER_PROCESS, nowMicros, sourceAddress } from './child-processes';
import type { HeldClientMessage, HeldParentMessage, OpenedMessage } from './held-protocol';
import { openFiles, openFilesLimit, residentMiB, tcpBufferMiB } from './process-readings';
import { delay, Health, ServerProcess, symbolName } from './server-process';
import { GRACE_MS, measureWindow, StreamCounts, sumReports, WARMUP_MS } from './window';

/**
 * ConnectionsHeld: the most subscribed WebSocket connections one bookcast process holds while
 * a 1k updates/s stream keeps flowing, and what each costs. The hard limit on open files is
 * 20,000 per process on these machines (`ulimit -Hn`), so one server tops out just below it;
 * 100,000 needs several edge processes (a later issue).
 *
 * One server per series (`--symbols '' --symbol-count S --rate 1000 --workers 1`, fresh
 * --data-dir). Connections are added in steps (quick 1k, 5k; full 1k, 5k, 10k, 15k, 19k) by
 * client processes (held-client.ts) of at most 4,000 sockets each, every process from its own
 * source address 127.0.0.2, .3, … (the `ws` package's localAddress) so ephemeral ports never run
 * out. Connection g subscribes to L2 depth 10 of symbol g % S in FlatBuffers. Two series:
 *
 *   dense   S = 10: each connection gets a tenth of the stream (~110 messages/s), so deliveries
 *           grow to ~2.1M/s at 19k connections: fan-out volume as much as holding
 *   sparse  S = 1,000: the same 1k updates/s stream, ~1.1 messages/s per connection (~21k
 *           deliveries/s at 19k): what holding connections costs, apart from fan-out volume
 *
 * At each step, after the new connections are subscribed and 2 s of warm-up: the server's RSS
 * (VmRSS, median of samples over the window) → memory per connection (over the RSS before any
 * connection, and across the opening of the step's connections alone), its open files
 * and CPU, the kernel's TCP buffer memory (machine-wide), and the stream's open-loop latency
 * (envelope timestamp = intended time; HDR histograms merged across processes), with sequence
 * gaps, resyncs and disconnects. A series stops at the first step that fails (a connection not
 * opened and subscribed, one dropped, a gap, a process that died) or whose clients fell behind (a
 * stream not caught up 5 s after the window, or under 90% of the deliveries published): past that
 * the client processes, which share the 2 cores, are what is measured. Goal (issue 5): 19,000
 * connections with p99 under 5 ms.
 */

interface Series {
  name: 'dense' | 'sparse';
  symbols: number;
}

const SERIES: readonly Series[] = [
  { name: 'sparse', symbols: 1000 },
  { name: 'dense', symbols: 10 },
];
const RATE = 1000;
const DEPTH = 10;
const WORKERS = 1;
const QUICK_STEPS: readonly number[] = [1000, 5000];
const FULL_STEPS: readonly number[] = [1000, 5000, 10_000, 15_000, 19_000];
const GOAL_CONNECTIONS = 19_000;
const GOAL_P99_US = 5000;
/** Per step: a base, plus time per connection a process opens (a busy machine opens ~1k/s). */
const OPEN_TIMEOUT_MS = 30_000;
const OPEN_TIMEOUT_PER_CONNECTION_MS = 10;
const SAMPLE_MS = 250;
/** RSS samples (SAMPLE_MS apart) whose median is one reading, before or after connections are opened. */
const RSS_SAMPLES = 4;
/**
 * The server's RSS climbs for ~10 s after its banner (store and books warming up: 1.38 → 1.42 GiB
 * with 1,000 symbols), which would be charged to the first connections: the baseline is read no
 * sooner than BASELINE_MIN_MS, once two readings a second apart differ by less than SETTLED_MIB,
 * and at the latest after BASELINE_MAX_MS.
 */
const SETTLED_MIB = 2;
const BASELINE_MIN_MS = 8000;
const BASELINE_MAX_MS = 20_000;
/** Deliveries under this share of what was published (× subscribers per symbol): the clients fell behind. */
const KEPT_UP_SHARE = 0.9;
const CLIENT_SCRIPT = path.join(__dirname, 'held-client.js');

export interface ClientProcess {
  child: ChildProcess;
  localAddress: string;
  /** The server this process's connections go to, chosen when it is forked. */
  url: string;
  connections: number;
}

/** The server client process `p` connects to (edge-connections.ts spreads processes over edges). */
export type UrlOf = (p: number) => string;

/** The server before any connection, once its RSS has settled. */
interface Baseline {
  rssMiB: number | null;
  /** How long it took to settle. */
  seconds: number;
  openFiles: number | null;
  /** The server's CPU with no connection: simulator, book worker, journal and store keep working. */
  cpuCores: number | null;
}

interface Step extends LatencySummary, StreamCounts {
  connections: number;
  processes: number;
  /** Connections the server counted (health endpoint) at the end of the window. */
  serverConnections: number;
  /** Wall time to open and subscribe this step's new connections, and the rate. */
  connectSeconds: number;
  connectsPerSecond: number;
  serverRssMiB: number | null;
  /** (RSS − RSS with no connection) / connections. */
  rssPerConnectionKiB: number | null;
  /**
   * (RSS just after this step's connections were opened − RSS just before) / connections added:
   * seconds apart, so less exposed than the figure over the baseline to the server's own moves
   * (store and journal growth, and a one-off release of ~370 MiB seen 30–60 s after start).
   * Either figure is null when the RSS fell meanwhile: then it measured that release.
   */
  marginalRssPerConnectionKiB: number | null;
  serverOpenFiles: number | null;
  tcpBufferMiB: number | null;
  serverCpuCores: number | null;
  /** L2 messages/s the server published (each to every subscriber of its symbol). */
  publishedPerSecond: number;
  deliveriesPerSecond: number;
  /** Deliveries over published × subscribers per symbol. */
  deliveredShare: number | null;
  bytesPerMessage: number;
  /** Client processes together, from the start of the warm-up to their reports. */
  clientCpuCores: number;
  machineBusyCores: number | null;
  loadAverage: number[];
  /** Within the goal's latency: p99 under 5 ms. */
  p99UnderGoal: boolean;
  /** Why the step failed: connections lost, a gap, the server gone; null when every connection was held. */
  failure: string | null;
  /** Why the clients count as behind (the series stops there too); null when they kept up. */
  clientsBehind: string | null;
}

interface FailedStep {
  connections: number;
  error: string;
}

interface SeriesResult {
  name: Series['name'];
  symbols: number;
  server: string;
  subscription: string;
  serverOpenFilesLimit: number | null;
  baseline: Baseline;
  steps: (Step | FailedStep)[];
  /** The largest step at which every connection was held (clients behind or not). */
  mostHeld: number;
  mostHeldWithP99UnderGoal: number;
  stoppedAt: { connections: number; reason: string } | null;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** Median of RSS samples of `pid` taken every SAMPLE_MS for `samples` samples. */
async function residentMedian(pid: number, samples: number): Promise<number | null> {
  const taken: number[] = [];
  await sampleResident(pid, nowMicros() + samples * SAMPLE_MS * 1000, taken);
  return median(taken);
}

/** Adds an RSS sample of `pid` to `samples` every SAMPLE_MS until `untilUs`. */
async function sampleResident(pid: number, untilUs: number, samples: number[]): Promise<void> {
  while (nowMicros() < untilUs) {
    const rss = residentMiB(pid);
    if (rss !== null) samples.push(rss);
    await delay(Math.min(SAMPLE_MS, Math.max(0, (untilUs - nowMicros()) / 1000)));
  }
}

/**
 * New connections per process so that `target` are held, fewest first (so the client CPU stays
 * even), never more than MAX_CONNECTIONS_PER_PROCESS in one; processes are forked as needed, and
 * go into `children` too (the server's session stops them).
 */
function share(clients: ClientProcess[], children: ChildProcess[], target: number, urlOf: UrlOf): number[] {
  while (clients.length * MAX_CONNECTIONS_PER_PROCESS < target) {
    const child = fork(CLIENT_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    clients.push({ child, localAddress: sourceAddress(clients.length), url: urlOf(clients.length), connections: 0 });
  }
  const held = clients.map((c) => c.connections);
  const more = clients.map(() => 0);
  let remaining = target - held.reduce((s, n) => s + n, 0);
  while (remaining > 0) {
    let fewest = 0;
    for (let p = 1; p < held.length; p++) if (held[p] < held[fewest]) fewest = p;
    held[fewest]++;
    more[fewest]++;
    remaining--;
  }
  return more;
}

/**
 * Opens connections until `target` are asked of the clients; `url`: one server, or the server of
 * each client process; `perConnectionMs`: the open timeout's time per connection a process opens.
 */
export async function openStep(clients: ClientProcess[], children: ChildProcess[], target: number, url: string | UrlOf, symbols: string[], firstIndex: number, perConnectionMs = OPEN_TIMEOUT_PER_CONNECTION_MS): Promise<{ opened: OpenedMessage[]; seconds: number }> {
  const more = share(clients, children, target, typeof url === 'string' ? () => url : url);
  const started = performance.now();
  const waits: Promise<OpenedMessage>[] = [];
  let index = firstIndex;
  clients.forEach((client, p) => {
    if (more[p] === 0) return;
    const timeoutMs = OPEN_TIMEOUT_MS + more[p] * perConnectionMs;
    // What the process holds now, not what it was asked for: a handshake that failed leaves room to ask again.
    waits.push(expectMessage<HeldClientMessage, 'opened'>(client.child, 'opened', timeoutMs + 5000).then((o) => ((client.connections = o.open), o)));
    client.child.send({
      type: 'open',
      url: client.url,
      localAddress: client.localAddress,
      count: more[p],
      firstIndex: index,
      symbols,
      depth: DEPTH,
      concurrency: OPEN_CONCURRENCY,
      timeoutMs,
    } satisfies HeldParentMessage);
    client.connections += more[p];
    index += more[p];
  });
  const opened = await Promise.all(waits);
  return { opened, seconds: (performance.now() - started) / 1000 };
}

interface StepContext {
  server: ServerProcess;
  clients: ClientProcess[];
  symbols: number;
  target: number;
  added: number;
  connectSeconds: number;
  seconds: number;
  baseline: Baseline;
  rssBeforeOpenMiB: number | null;
  rssAfterOpenMiB: number | null;
}

/** The server's health, with its open files and the machine's TCP buffers: read at the window's edges. */
interface Reading {
  health: Health;
  files: number | null;
  tcp: number | null;
}

async function measureStep(c: StepContext): Promise<Step> {
  const { server, clients, target, seconds } = c;
  const rssSamples: number[] = [];
  const window = await measureWindow<HeldClientMessage, 'measured', Reading>(
    clients.map((p) => p.child),
    'measured',
    {
      seconds,
      serverPid: server.pid,
      probe: async () => ({ health: await server.health(), files: openFiles(server.pid), tcp: tcpBufferMiB() }),
      until: (endUs) => sampleResident(server.pid, endUs, rssSamples),
    },
  );
  const [{ health: health0 }, { health: health1, files, tcp }] = window.probed!;
  const reports = window.reports;
  const { messages: delivered, bytes, ...latencyAndCounts } = sumReports(reports);
  const publishedPerSecond = (health1.published - health0.published) / window.seconds;
  const expected = publishedPerSecond * (target / Math.min(target, c.symbols));
  const deliveredShare = expected === 0 ? null : round(delivered / seconds / expected, 3);
  const { gaps, disconnects, lateStreams } = latencyAndCounts;
  const held = reports.reduce((s, r) => s + r.open, 0);
  const failures: string[] = [];
  if (held < target) failures.push(`${target - held} of ${target} connections no longer open`);
  if (disconnects > 0) failures.push(`${disconnects} disconnects`);
  if (gaps > 0) failures.push(`${gaps} sequence gaps`);
  if (server.exited) failures.push('the server exited');
  const behind: string[] = [];
  if (lateStreams > 0) behind.push(`${lateStreams} streams not past the window ${GRACE_MS / 1000} s after it`);
  if (deliveredShare !== null && deliveredShare < KEPT_UP_SHARE) behind.push(`${deliveredShare} of the published deliveries`);
  const rssMiB = median(rssSamples);
  const kib = (mib: number | null, base: number | null, n: number) => (mib === null || base === null || n === 0 || mib < base ? null : round(((mib - base) * 1024) / n, 1));
  return {
    connections: target,
    processes: clients.length,
    serverConnections: health1.connections,
    connectSeconds: round(c.connectSeconds, 2),
    connectsPerSecond: Math.round(c.added / c.connectSeconds),
    serverRssMiB: rssMiB === null ? null : round(rssMiB, 1),
    rssPerConnectionKiB: kib(rssMiB, c.baseline.rssMiB, target),
    marginalRssPerConnectionKiB: kib(c.rssAfterOpenMiB, c.rssBeforeOpenMiB, c.added),
    serverOpenFiles: files,
    tcpBufferMiB: tcp === null ? null : round(tcp, 1),
    serverCpuCores: window.serverCpuSeconds === null ? null : round(window.serverCpuSeconds / window.seconds, 2),
    publishedPerSecond: Math.round(publishedPerSecond),
    deliveriesPerSecond: Math.round(delivered / seconds),
    deliveredShare,
    bytesPerMessage: delivered === 0 ? 0 : Math.round(bytes / delivered),
    ...latencyAndCounts,
    clientCpuCores: round(reports.reduce((s, r) => s + r.cpuCores, 0), 2),
    machineBusyCores: window.machineBusyCores,
    loadAverage: window.loadAverage,
    p99UnderGoal: latencyAndCounts.p99 !== null && latencyAndCounts.p99 < GOAL_P99_US,
    failure: failures.length === 0 ? null : failures.join('; '),
    clientsBehind: behind.length === 0 ? null : behind.join('; '),
  };
}

async function readBaseline(server: ServerProcess): Promise<Baseline> {
  const cpu0 = processCpuSeconds(server.pid);
  const at0 = nowMicros();
  const elapsedMs = () => (nowMicros() - at0) / 1000;
  let rssMiB = await residentMedian(server.pid, RSS_SAMPLES);
  while (rssMiB !== null && elapsedMs() < BASELINE_MAX_MS) {
    const next = await residentMedian(server.pid, RSS_SAMPLES);
    const steady = next !== null && Math.abs(next - rssMiB) < SETTLED_MIB;
    rssMiB = next;
    if (steady && elapsedMs() >= BASELINE_MIN_MS) break;
  }
  const cpu1 = processCpuSeconds(server.pid);
  const elapsed = (nowMicros() - at0) / 1e6;
  return {
    rssMiB: rssMiB === null ? null : round(rssMiB, 1),
    seconds: round(elapsed, 1),
    openFiles: openFiles(server.pid),
    cpuCores: cpu0 === null || cpu1 === null ? null : round((cpu1 - cpu0) / elapsed, 2),
  };
}

/** One server, connections added step by step until the last step or the first that fails. */
function runSeries(series: Series, targets: readonly number[], seconds: number): Promise<SeriesResult> {
  return withBookcast({ symbols: series.symbols, rate: RATE, workers: WORKERS }, async (server, children) => {
    const clients: ClientProcess[] = [];
    const symbols = Array.from({ length: series.symbols }, (_, i) => symbolName(i));
    const steps: (Step | FailedStep)[] = [];
    const fileLimit = openFilesLimit(server.pid);
    const baseline = await readBaseline(server);
    let previous = 0;
    for (const target of targets) {
      try {
        const rssBeforeOpenMiB = previous === 0 ? baseline.rssMiB : await residentMedian(server.pid, RSS_SAMPLES);
        const { opened, seconds: connectSeconds } = await openStep(clients, children, target, server.url, symbols, previous);
        const failed = opened.reduce((s, o) => s + o.failed, 0);
        if (failed > 0) {
          const first = opened.find((o) => o.firstError !== null)?.firstError;
          steps.push({ connections: target, error: `${failed} of ${target - previous} new connections failed to open and subscribe; first: ${first}` });
          break;
        }
        const added = target - previous;
        const rssAfterOpenMiB = await residentMedian(server.pid, RSS_SAMPLES);
        const step = await measureStep({ server, clients, symbols: series.symbols, target, added, connectSeconds, seconds, baseline, rssBeforeOpenMiB, rssAfterOpenMiB });
        steps.push(step);
        if (step.failure !== null || step.clientsBehind !== null) break;
        previous = target;
      } catch (err) {
        steps.push({ connections: target, error: `${(err as Error).message}${server.exited ? `\n--- server output ---\n${server.recentOutput}` : ''}` });
        break;
      }
    }
    const held = steps.filter((s): s is Step => !('error' in s) && s.failure === null);
    const withinGoal = held.filter((s) => s.p99UnderGoal);
    const stopped = steps.find((s) => 'error' in s || s.failure !== null || s.clientsBehind !== null);
    return {
      name: series.name,
      symbols: series.symbols,
      server: `--symbols '' --symbol-count ${series.symbols} --rate ${RATE} --workers ${WORKERS}`,
      subscription: `connection g: L2 depth ${DEPTH} of symbol g % ${series.symbols}, FlatBuffers`,
      serverOpenFilesLimit: fileLimit,
      baseline,
      steps,
      mostHeld: held.length === 0 ? 0 : held[held.length - 1].connections,
      mostHeldWithP99UnderGoal: withinGoal.length === 0 ? 0 : withinGoal[withinGoal.length - 1].connections,
      stoppedAt: stopped === undefined ? null : { connections: stopped.connections, reason: 'error' in stopped ? stopped.error : (stopped.failure ?? `clients behind: ${stopped.clientsBehind}`) },
    };
  });
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const targets = opts.full ? FULL_STEPS : QUICK_STEPS;
  const series: (SeriesResult | { name: Series['name']; error: string })[] = [];
  for (const s of SERIES) {
    try {
      series.push(await runSeries(s, targets, opts.seconds));
    } catch (err) {
      series.push({ name: s.name, error: (err as Error).message });
    }
  }
  if (series.every((s) => 'error' in s)) throw new Error(`every series failed; the first: ${(series[0] as { error: string }).error}`);
  const met = series.some((s) => !('error' in s) && s.steps.some((x) => !('error' in x) && x.failure === null && x.connections >= GOAL_CONNECTIONS && x.p99UnderGoal));
  return {
    name: 'ConnectionsHeld',
    unit: 'connections held by one server process; µs from intended event time to client receipt',
    rate: RATE,
    connectionsPerClientProcess: MAX_CONNECTIONS_PER_PROCESS,
    warmupSeconds: WARMUP_MS / 1000,
    goal: { connections: GOAL_CONNECTIONS, p99Us: GOAL_P99_US, met },
    series,
    loadAverageEnd: loadAverage(),
  };
}

if (require.main === module) runStandalone(run, 5);
