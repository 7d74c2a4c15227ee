/**
 * EdgeConnections (issue 12): subscribed WebSocket connections held across edge processes, with
 * a 1k updates/s stream flowing from one primary through Redis, and what holding them costs. One
 * process cannot pass its open-file limit (20,000 here), so 100,000 connections need several
 * edges, and several client processes too, all on this machine's loopback.
 *
 *   node dist/bench/edge/edge-connections.js [seconds] [--full] [--steps 20000,50000,100000]
 *     (needs Redis at BOOKCAST_BENCH_REDIS or 127.0.0.1:6379)
 *
 * One primary (`--symbols '' --symbol-count 1000 --rate 1000 --workers 1`, fresh --data-dir,
 * publishing to Redis under a prefix of its own) and as many edges (`--source follow`) as the
 * step needs, started before the step: at most CLIENTS_PER_EDGE client processes of 4,000
 * connections each go to one edge (16,000, under the edge's default cap of 19,200). The clients
 * are held-client.ts processes of connections-held.ts, each from its own source address; each
 * connection follows L2 depth 10 of one of the 1,000 symbols in FlatBuffers (the sparse series
 * of connections-held: ~1.1 messages/s per connection). Latency is from the event's intended
 * time, which an edge's messages carry unchanged from the primary (one clock: this machine's).
 *
 * Steps (quick 20k, 50k, 100k; --full then 150k, 200k, 250k) stop at the first that fails (a
 * connection refused or dropped, a gap, a process gone) or that the machine cannot carry: clients
 * behind (streams not caught up after the grace, or under 90% of the deliveries) are reported,
 * since on 2 shared cores that is the other users' load, not the edges letting go. Before an
 * edge is started, the memory available must hold it with a reserve (MEMORY_RESERVE_MIB) left to
 * the other users. Per step: connections reached and
 * refused, p50/p90/p99/p99.9/max, per edge its connections, RSS, RSS per connection over its own
 * RSS before it had any, CPU, open files and its replication lag; the primary's RSS and CPU; the
 * client processes' CPU; load average. Every process it starts is stopped whatever happens
 * (exit-guard.ts), and the Redis keys of its prefix are deleted.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { loadAverage, processCpuSeconds, round } from '../system';
import { ClientProcess, openStep } from '../gateway/connections-held';
import { LatencySummary, MAX_CONNECTIONS_PER_PROCESS, nowMicros, stopChildren } from '../gateway/child-processes';
import { DataDir } from '../gateway/data-dir';
import { guardChildren } from '../gateway/exit-guard';
import type { HeldClientMessage } from '../gateway/held-protocol';
import { openFiles, residentMiB, tcpBufferMiB } from '../gateway/process-readings';
import { delay, Health, ServerProcess, symbolName } from '../gateway/server-process';
import { GRACE_MS, measureWindow, StreamCounts, sumReports } from '../gateway/window';

const REDIS_URL = process.env.BOOKCAST_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const SYMBOLS = 1000;
const RATE = 1000;
const WORKERS = 1;
const QUICK_STEPS: readonly number[] = [20_000, 50_000, 100_000];
const FULL_STEPS: readonly number[] = [...QUICK_STEPS, 150_000, 200_000, 250_000];
const GOAL_CONNECTIONS = 100_000;
/** Client processes per edge: 16,000 connections, under the default --max-connections of 19,200. */
const CLIENTS_PER_EDGE = 4;
/** The embedded store is created at start; over a minute when other jobs load the 2 cores. */
const START_MS = 240_000;
/** An edge is caught up once it is this few records behind the stream's head. */
const CAUGHT_UP_RECORDS = 1000;
const CATCH_UP_MS = 120_000;
/** Left to everyone else when deciding whether one more edge fits (other engineers share the 24 GiB). */
const MEMORY_RESERVE_MIB = 4096;
/** Until an edge has been measured, what one is taken to need (an edge with 1,000 symbols held ~1.5 GiB before connections). */
const EDGE_RSS_GUESS_MIB = 1600;
/**
 * A quiet machine opens ~1k connections/s per process; at load 50 (other users' test suites) 13
 * processes together opened ~100/s, and one missed a 60 ms-per-connection deadline.
 */
const OPEN_MS_PER_CONNECTION = 150;
const SAMPLE_MS = 500;
const OPEN_ATTEMPTS = 3;
const KEPT_UP_SHARE = 0.9;

interface ReplicationHealth {
  lag_records: number;
  lag_ms: number;
}

type EdgeHealth = Health & { replication: ReplicationHealth };

interface Edge {
  server: ServerProcess;
  /** RSS once caught up, before any connection. */
  baselineRssMiB: number | null;
  startSeconds: number;
}

interface EdgeReading {
  connections: number;
  rssMiB: number | null;
  rssPerConnectionKiB: number | null;
  /** (RSS just after this step's connections opened − just before) / connections added to this edge; null if none were, or the RSS fell. */
  marginalRssPerConnectionKiB: number | null;
  cpuCores: number | null;
  openFiles: number | null;
  lagRecords: number;
  lagMsMax: number;
}

interface Step extends LatencySummary, StreamCounts {
  connections: number;
  /** Open and subscribed at the clients at the window's end, and as the edges count them. */
  held: number;
  edgeConnections: number;
  refused: number;
  edges: number;
  clientProcesses: number;
  connectSeconds: number;
  connectsPerSecond: number;
  deliveriesPerSecond: number;
  deliveredShare: number | null;
  bytesPerMessage: number;
  primary: { rssMiB: number | null; cpuCores: number | null };
  edge: EdgeReading[];
  /**
   * Over the edges: RSS added per connection since each had none, and across this step's opening
   * alone (edges whose RSS fell meanwhile left out: an edge releases a few hundred MiB once, in its
   * first minutes, which would otherwise be charged to the connections); the sum of their RSS and CPU.
   */
  edgeRssPerConnectionKiB: number | null;
  edgeMarginalRssPerConnectionKiB: number | null;
  edgesRssMiB: number;
  edgesCpuCores: number;
  clientCpuCores: number;
  clientCpuCoresPerProcess: number;
  clientRssMiB: number;
  tcpBufferMiB: number | null;
  memAvailableMiB: number | null;
  machineBusyCores: number | null;
  loadAverage: number[];
  failure: string | null;
  clientsBehind: string | null;
}

interface StoppedStep {
  connections: number;
  error: string;
}

/** MemAvailable from /proc/meminfo, MiB. */
function memAvailableMiB(): number | null {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return match === null ? null : Number(match[1]) / 1024;
  } catch {
    return null;
  }
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

async function residentMedian(pid: number): Promise<number | null> {
  const samples: number[] = [];
  for (let i = 0; i < 4; i++) {
    const rss = residentMiB(pid);
    if (rss !== null) samples.push(rss);
    await delay(SAMPLE_MS);
  }
  return median(samples);
}

/** Health answers wait behind handshakes and fan-out on a loaded machine: seconds, at 16,000 connections. */
const HEALTH_TIMEOUT_MS = 20_000;

async function edgeHealth(server: ServerProcess): Promise<EdgeHealth> {
  return (await server.health(HEALTH_TIMEOUT_MS)) as EdgeHealth;
}

/** Starts an edge and waits until it has caught up with the stream. */
async function startEdge(prefix: string): Promise<Edge> {
  const started = performance.now();
  const server = await ServerProcess.start(['--source', 'follow', '--port', '0', '--redis-url', REDIS_URL, '--replication-prefix', prefix], START_MS);
  try {
    const deadline = performance.now() + CATCH_UP_MS;
    for (;;) {
      const lag = (await edgeHealth(server)).replication;
      if (lag.lag_records <= CAUGHT_UP_RECORDS) break;
      if (performance.now() > deadline) throw new Error(`edge ${server.pid} still ${lag.lag_records} records behind after ${CATCH_UP_MS} ms`);
      await delay(SAMPLE_MS);
    }
    return { server, baselineRssMiB: await residentMedian(server.pid), startSeconds: round((performance.now() - started) / 1000, 1) };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** Why `more` edges do not fit in memory now, or null if they do. */
function memoryRefusal(edges: readonly Edge[], more: number): string | null {
  const available = memAvailableMiB();
  if (available === null) return null;
  const measured = edges.map((e) => residentMiB(e.server.pid)).filter((r): r is number => r !== null);
  const need = Math.max(EDGE_RSS_GUESS_MIB, ...measured) * more;
  if (available - need >= MEMORY_RESERVE_MIB) return null;
  return `memory: ${Math.round(available)} MiB available, ${more} more edges need ~${Math.round(need)} MiB and ${MEMORY_RESERVE_MIB} MiB stay for the other users`;
}

interface Reading {
  healths: EdgeHealth[];
  cpu: (number | null)[];
}

/** Each edge's RSS and connections just before and just after a step's connections were opened. */
interface Opening {
  rssBefore: (number | null)[];
  rssAfter: (number | null)[];
  added: number[];
  seconds: number;
}

function connectionsPerEdge(edges: readonly Edge[], clients: readonly ClientProcess[]): number[] {
  return edges.map((e) => clients.filter((c) => c.url === e.server.url).reduce((sum, c) => sum + c.connections, 0));
}

const kib = (after: number | null, before: number | null, n: number) => (after === null || before === null || n === 0 || after < before ? null : round(((after - before) * 1024) / n, 2));

async function measureStep(primary: ServerProcess, edges: readonly Edge[], clients: readonly ClientProcess[], target: number, refused: number, opening: Opening, seconds: number): Promise<Step> {
  const added = opening.added.reduce((a, b) => a + b, 0);
  const connectSeconds = opening.seconds;
  const pids = [primary.pid, ...edges.map((e) => e.server.pid)];
  const rss = pids.map(() => [] as number[]);
  const lagMax = edges.map(() => 0);
  const window = await measureWindow<HeldClientMessage, 'measured', Reading>(
    clients.map((c) => c.child),
    'measured',
    {
      seconds,
      serverPid: primary.pid,
      probe: async () => ({
        healths: await Promise.all(edges.map((e) => edgeHealth(e.server))),
        cpu: pids.map((pid) => processCpuSeconds(pid)),
      }),
      // At least one reading: with 16,000 connections an edge's health may answer after the window's end.
      until: async (endUs) => {
        do {
          pids.forEach((pid, i) => {
            const r = residentMiB(pid);
            if (r !== null) rss[i].push(r);
          });
          const healths = await Promise.all(edges.map((e) => edgeHealth(e.server).catch(() => null)));
          healths.forEach((h, i) => (lagMax[i] = Math.max(lagMax[i], h?.replication.lag_ms ?? 0)));
          await delay(Math.min(SAMPLE_MS, Math.max(0, (endUs - nowMicros()) / 1000)));
        } while (nowMicros() < endUs);
      },
    },
  );
  const [r0, r1] = window.probed!;
  const cores = (i: number) => {
    const a = r0.cpu[i];
    const b = r1.cpu[i];
    return a === null || b === null ? null : round((b - a) / window.seconds, 3);
  };
  const reports = window.reports;
  const { messages: delivered, bytes, ...latencyAndCounts } = sumReports(reports);
  const edge: EdgeReading[] = edges.map((e, i) => {
    const h = r1.healths[i];
    const rssMiB = median(rss[i + 1]);
    return {
      connections: h.connections,
      rssMiB: rssMiB === null ? null : round(rssMiB, 1),
      rssPerConnectionKiB: kib(rssMiB, e.baselineRssMiB, h.connections),
      marginalRssPerConnectionKiB: kib(opening.rssAfter[i], opening.rssBefore[i], opening.added[i]),
      cpuCores: cores(i + 1), openFiles: openFiles(e.server.pid), lagRecords: h.replication.lag_records, lagMsMax: lagMax[i] };
  });
  // Each edge publishes every L2 update once to its topic, delivered to that symbol's subscribers there.
  const expected = edges.reduce((sum, _e, i) => {
    const published = (r1.healths[i].published - r0.healths[i].published) / window.seconds;
    const held = r1.healths[i].connections;
    return sum + (held === 0 ? 0 : (published * held) / Math.min(held, SYMBOLS));
  }, 0);
  const deliveredShare = expected === 0 ? null : round(delivered / seconds / expected, 3);
  const held = reports.reduce((s, r) => s + r.open, 0);
  const edgeConnections = edge.reduce((s, e) => s + e.connections, 0);
  const { gaps, disconnects, lateStreams } = latencyAndCounts;
  const failures: string[] = [];
  if (held < target) failures.push(`${target - held} of ${target} connections no longer open`);
  if (disconnects > 0) failures.push(`${disconnects} disconnects`);
  if (gaps > 0) failures.push(`${gaps} sequence gaps`);
  if (primary.exited) failures.push('the primary exited');
  const gone = edges.filter((e) => e.server.exited).length;
  if (gone > 0) failures.push(`${gone} edges exited`);
  const behind: string[] = [];
  if (lateStreams > 0) behind.push(`${lateStreams} streams not past the window ${GRACE_MS / 1000} s after it`);
  if (deliveredShare !== null && deliveredShare < KEPT_UP_SHARE) behind.push(`${deliveredShare} of the published deliveries`);
  const edgesRss = edge.reduce((s, e) => s + (e.rssMiB ?? 0), 0);
  const edgesBaseline = edges.reduce((s, e) => s + (e.baselineRssMiB ?? 0), 0);
  const grew = edges.map((_e, i) => kib(opening.rssAfter[i], opening.rssBefore[i], opening.added[i]) !== null);
  const grewMiB = edges.reduce((sum, _e, i) => sum + (grew[i] ? opening.rssAfter[i]! - opening.rssBefore[i]! : 0), 0);
  const grewConnections = edges.reduce((sum, _e, i) => sum + (grew[i] ? opening.added[i] : 0), 0);
  const clientCpu = reports.reduce((s, r) => s + r.cpuCores, 0);
  const primaryRss = median(rss[0]);
  const tcp = tcpBufferMiB();
  const available = memAvailableMiB();
  return {
    connections: target,
    held,
    edgeConnections,
    refused,
    edges: edges.length,
    clientProcesses: clients.length,
    connectSeconds: round(connectSeconds, 1),
    connectsPerSecond: Math.round(added / connectSeconds),
    deliveriesPerSecond: Math.round(delivered / seconds),
    deliveredShare,
    bytesPerMessage: delivered === 0 ? 0 : Math.round(bytes / delivered),
    ...latencyAndCounts,
    primary: { rssMiB: primaryRss === null ? null : round(primaryRss, 1), cpuCores: cores(0) },
    edge,
    edgeRssPerConnectionKiB: kib(edgesRss, edgesBaseline, edgeConnections),
    edgeMarginalRssPerConnectionKiB: grewConnections === 0 ? null : round((grewMiB * 1024) / grewConnections, 2),
    edgesRssMiB: Math.round(edgesRss),
    edgesCpuCores: round(edge.reduce((s, e) => s + (e.cpuCores ?? 0), 0), 2),
    clientCpuCores: round(clientCpu, 2),
    clientCpuCoresPerProcess: round(clientCpu / clients.length, 3),
    clientRssMiB: Math.round(clients.reduce((s, c) => s + (residentMiB(c.child.pid!) ?? 0), 0)),
    tcpBufferMiB: tcp === null ? null : round(tcp, 1),
    memAvailableMiB: available === null ? null : Math.round(available),
    machineBusyCores: window.machineBusyCores,
    loadAverage: window.loadAverage,
    failure: failures.length === 0 ? null : failures.join('; '),
    clientsBehind: behind.length === 0 ? null : behind.join('; '),
  };
}

function stepsFromArguments(full: boolean): readonly number[] {
  const at = process.argv.indexOf('--steps');
  if (at < 0) return full ? FULL_STEPS : QUICK_STEPS;
  const steps = process.argv[at + 1].split(',').map(Number);
  if (steps.some((n, i) => !Number.isInteger(n) || n <= 0 || (i > 0 && n <= steps[i - 1]))) throw new Error('--steps: increasing connection counts, comma-separated');
  return steps;
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const targets = stepsFromArguments(opts.full);
  const prefix = `bench:edge-connections:${randomBytes(6).toString('hex')}`;
  const dataDir = new DataDir();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const edges: Edge[] = [];
  const children: ChildProcess[] = [];
  let primary: ServerProcess | null = null;
  const unguard = guardChildren(() => {
    primary?.killNow();
    for (const e of edges) e.server.killNow();
    for (const c of children) c.kill('SIGKILL');
    dataDir.remove();
  });
  const steps: (Step | StoppedStep)[] = [];
  try {
    primary = await ServerProcess.start(
      ['--port', '0', '--symbols', '', '--symbol-count', String(SYMBOLS), '--rate', String(RATE), '--workers', String(WORKERS), ...dataDir.args, '--redis-url', REDIS_URL, '--replication-prefix', prefix],
      START_MS,
    );
    const metaDeadline = performance.now() + START_MS;
    while ((await redis.exists(`${prefix}:meta`)) === 0) {
      if (performance.now() > metaDeadline) throw new Error('the primary published no replication meta');
      await delay(200);
    }
    const clients: ClientProcess[] = [];
    const symbols = Array.from({ length: SYMBOLS }, (_, i) => symbolName(i));
    const urlOf = (p: number) => edges[Math.floor(p / CLIENTS_PER_EDGE)].server.url;
    let previous = 0;
    for (const target of targets) {
      try {
        const needed = Math.ceil(Math.ceil(target / MAX_CONNECTIONS_PER_PROCESS) / CLIENTS_PER_EDGE);
        const refusal = memoryRefusal(edges, needed - edges.length);
        if (refusal !== null) {
          steps.push({ connections: target, error: refusal });
          break;
        }
        // Together: on a machine other users saturate, each start gets its share of the cores.
        const starting = Array.from({ length: needed - edges.length }, () => startEdge(prefix));
        const started = await Promise.allSettled(starting);
        for (const s of started) if (s.status === 'fulfilled') edges.push(s.value);
        const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
        const rssBefore = await Promise.all(edges.map((e) => residentMedian(e.server.pid)));
        const heldBefore = connectionsPerEdge(edges, clients);
        // A handshake reset on a saturated machine (1 of 100,000 at load 70) is a refusal to count,
        // not the end: the step asks again for what is missing, OPEN_ATTEMPTS times at most.
        let refused = 0;
        let missing = 0;
        let firstError: string | null = null;
        let connectSeconds = 0;
        for (let attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
          const asked = clients.reduce((sum, c) => sum + c.connections, 0);
          const { opened, seconds } = await openStep(clients, children, target, urlOf, symbols, asked, OPEN_MS_PER_CONNECTION);
          connectSeconds += seconds;
          missing = opened.reduce((sum, o) => sum + o.failed, 0);
          refused += missing;
          firstError ??= opened.find((o) => o.firstError !== null)?.firstError ?? null;
          if (missing === 0) break;
        }
        const heldAfter = connectionsPerEdge(edges, clients);
        const opening = { rssBefore, rssAfter: await Promise.all(edges.map((e) => residentMedian(e.server.pid))), added: heldAfter.map((n, i) => n - heldBefore[i]), seconds: connectSeconds };
        if (missing > 0) {
          steps.push({ connections: target, error: `${missing} of ${target - previous} new connections not open and subscribed after ${OPEN_ATTEMPTS} attempts (${refused} refusals); first: ${firstError}` });
          break;
        }
        const step = await measureStep(primary, edges, clients, target, refused, opening, opts.seconds);
        steps.push(step);
        // Each step as it ends: a long run cut short (by its own timeout or a signal) keeps what it measured.
        console.error(`edge-connections step ${JSON.stringify(step)}`);
        // Clients behind on a machine other users saturate say what the machine gives, not that
        // the edges stopped holding: the series goes on, and the step says so.
        if (step.failure !== null) break;
        previous = target;
      } catch (err) {
        steps.push({ connections: target, error: (err as Error).message });
        break;
      }
    }
    const held = steps.filter((s): s is Step => !('error' in s) && s.failure === null);
    const stopped = steps.find((s) => 'error' in s || s.failure !== null);
    const result = {
      name: 'EdgeConnections',
      unit: 'connections held across edge processes; µs from intended event time to client receipt',
      primary: `--symbols '' --symbol-count ${SYMBOLS} --rate ${RATE} --workers ${WORKERS} --redis-url … (publishing)`,
      edge: `--source follow (up to ${CLIENTS_PER_EDGE * MAX_CONNECTIONS_PER_PROCESS} connections each)`,
      subscription: `connection g: L2 depth 10 of symbol g % ${SYMBOLS}, FlatBuffers`,
      connectionsPerClientProcess: MAX_CONNECTIONS_PER_PROCESS,
      seconds: opts.seconds,
      edgeStarts: edges.map((e) => ({ seconds: e.startSeconds, baselineRssMiB: e.baselineRssMiB })),
      steps,
      mostHeld: held.length === 0 ? 0 : held[held.length - 1].connections,
      goal: { connections: GOAL_CONNECTIONS, held: held.some((s) => s.connections >= GOAL_CONNECTIONS) },
      stoppedAt: stopped === undefined ? null : { connections: stopped.connections, reason: 'error' in stopped ? stopped.error : stopped.failure },
      loadAverageEnd: loadAverage(),
    };
    return result;
  } finally {
    await stopChildren(children);
    await Promise.all(edges.map((e) => e.server.stop()));
    await primary?.stop();
    dataDir.remove();
    await redis.unlink(`${prefix}:input`, `${prefix}:checkpoint`, `${prefix}:meta`).catch(() => undefined);
    redis.disconnect();
    unguard();
  }
}

/** Run alone: the result is printed and also kept in bench/results/ (not committed). */
if (require.main === module) {
  const seconds = Number(/^\d+$/.test(process.argv[2] ?? '') ? process.argv[2] : 5);
  run({ seconds, full: process.argv.includes('--full') }).then(
    (result) => {
      const text = JSON.stringify(result, null, 2);
      console.log(text);
      const dir = path.resolve(__dirname, '../../../bench/results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `edge-connections-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), text);
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
