import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { peerVersion } from '../peers';
import { loadAverage, round } from '../system';
import { commandOption, runStandalone } from '../standalone';
import { withLatencyClients } from './bookcast-session';
import { expectMessage, LatencySummary, nowMicros, ratio, sourceAddress, startClients, stopChildren } from './child-processes';
import type { ClientMessage, ConnectionPlan, ResultMessage } from './client-protocol';
import { guardChildren } from './exit-guard';
import { FanoutPeerKind, PeerStartMessage, PublisherMessage, PublisherParentMessage, SOKETI_APP_KEY } from './fanout-protocol';
import { reniceThreads } from './process-readings';
import { delay, ServerProcess, symbolName } from './server-process';
import { ThreadWaits, threadLabels, WakeupProbe, waitsByLabel, WatchedProcess } from './wakeup-latency';
import { GRACE_MS, measureWindow, StreamCounts, sumReports, Window, WARMUP_MS } from './window';

/**
 * FanoutPeers: the same fan-out workload (C clients each receiving every message of a stream
 * published at M messages/s, so C·M deliveries/s) through five servers, each in its own process,
 * one at a time, with the same client processes and the same clock:
 *
 *   uWS ceiling  bare uWebSockets.js publishing a ~100-byte binary message to one topic (no engine)
 *   bookcast     the product on its simulator (--symbols '' --symbol-count 10 --rate R
 *                --workers 1, a fresh temporary --data-dir); every client subscribes to L2
 *                depth 10 of all 10 symbols in FlatBuffers (latency-client.ts)
 *   ws           the ws package as a typical Node reference implementation: JSON.stringify once
 *                per broadcast, ws.send per client
 *   Socket.IO    binary emit to a room every client joined
 *   Soketi       a Pusher-protocol server on uWebSockets.js: every client subscribes to a public
 *                channel; events published in Soketi's process through its adapter
 *
 * Open loop everywhere: bookcast's simulator stamps each event with its due time, and the peer
 * publishers (fanout-publisher.ts) stamp each message with its due time on a fixed schedule;
 * latency is a client's receipt minus that stamp. bookcast runs first at each point and its
 * measured publish rate (L2 messages/s over the 10 symbols, from /api/v1/health) becomes the peers'
 * message rate, so every system delivers the same messages/s to the same clients. Per point:
 * 2 s of warm-up, the measured window, then up to 5 s for every connection to pass the window.
 */

const CLIENT_PROCESSES = 2;
const SYMBOLS = 10;
const DEPTH = 10;
const WORKERS = 1;
/** Publishers take seconds to start on a busy machine (Soketi loads ~300 modules). */
const START_TIMEOUT_MS = 60_000;
const SETUP_TIMEOUT_MS = 30_000;
const PEER_CLIENT = path.join(__dirname, 'fanout-client.js');
/** The shortest --metrics-window-ms bookcast takes. */
const METRICS_WINDOW_MIN_MS = 600;
const PUBLISHER = path.join(__dirname, 'fanout-publisher.js');

interface Point {
  clients: number;
  /** bookcast's simulator arrivals/s; the peers follow its measured publish rate. */
  arrivals: number;
}

/** ~27k and ~110k deliveries/s (quick); the full suite adds ~430k, and the same three at 1,000 clients. */
const QUICK_POINTS: readonly Point[] = [
  { clients: 100, arrivals: 250 },
  { clients: 100, arrivals: 1000 },
];
const FULL_POINTS: readonly Point[] = [
  ...QUICK_POINTS,
  { clients: 100, arrivals: 4000 },
  { clients: 1000, arrivals: 25 },
  { clients: 1000, arrivals: 100 },
  { clients: 1000, arrivals: 400 },
];

const SYSTEMS = ['uWS ceiling', 'bookcast', 'ws', 'Socket.IO', 'Soketi'] as const;
type System = (typeof SYSTEMS)[number];
type Peer = Exclude<System, 'bookcast'>;
const PEERS: readonly Peer[] = ['uWS ceiling', 'ws', 'Socket.IO', 'Soketi'];
const PEER_KIND: Record<Peer, FanoutPeerKind> = { 'uWS ceiling': 'uws', ws: 'ws', 'Socket.IO': 'socket.io', Soketi: 'soketi' };

interface Row extends LatencySummary, Omit<StreamCounts, 'negativeLatencies' | 'errors'> {
  system: System;
  clients: number;
  messagesPerSecond: number;
  deliveredPerSecond: number;
  /** Delivered over what the publish rate and the fan-out call for. */
  deliveredShare: number;
  bytesPerMessage: number;
  /** Error frames, "CODE n, …". */
  errors: string;
  /** Peers: the publisher's own lateness (due time to publish), p99 µs, included in the latencies. */
  publisherLagP99: number | null;
  /**
   * bookcast: its own event-to-send latency (the event's due time to the hand-off to uWS, on the
   * front thread; /metrics, 1 message in 16, over the measured window), p50 and p99 µs: the part
   * of the latency spent inside the server before uWS writes, as publisherLagP99 is the ceiling's.
   */
  eventToSendP50: number | null;
  eventToSendP99: number | null;
  /** bookcast: the part of it before the book worker starts applying the event (/metrics, 1 event in 16), p50 and p99 µs. */
  eventToApplyP50: number | null;
  eventToApplyP99: number | null;
  serverCpuSeconds: number | null;
  serverCpuSecondsPerMillion: number | null;
  clientCpuSeconds: number;
  machineBusyCores: number | null;
}

interface FailedRow {
  system: System;
  clients: number;
  messagesPerSecond: number | null;
  error: string;
}

function row(system: System, clients: number, messagesPerSecond: number, seconds: number, window: Window<ResultMessage, unknown>, publisherLagP99: number | null, stages: ServerStages | null = null): Row {
  const { messages, bytes, negativeLatencies: _negative, errors, ...latencyAndCounts } = sumReports(window.reports);
  const deliveredPerSecond = Math.round(messages / seconds);
  const serverCpuSeconds = window.serverCpuSeconds === null ? null : round(window.serverCpuSeconds, 2);
  return {
    system,
    clients,
    messagesPerSecond: Math.round(messagesPerSecond),
    deliveredPerSecond,
    deliveredShare: round(deliveredPerSecond / (messagesPerSecond * clients), 3),
    bytesPerMessage: messages === 0 ? 0 : Math.round(bytes / messages),
    ...latencyAndCounts,
    errors: Object.entries(errors).map(([code, n]) => `${code} ${n}`).join(', '),
    publisherLagP99,
    eventToSendP50: stages?.send.p50 ?? null,
    eventToSendP99: stages?.send.p99 ?? null,
    eventToApplyP50: stages?.apply.p50 ?? null,
    eventToApplyP99: stages?.apply.p99 ?? null,
    serverCpuSeconds,
    serverCpuSecondsPerMillion: serverCpuSeconds === null || messages === 0 ? null : round((serverCpuSeconds * 1e6) / messages, 2),
    clientCpuSeconds: round(window.reports.reduce((s, r) => s + r.cpuSeconds, 0), 2),
    machineBusyCores: window.machineBusyCores,
  };
}

/** `total` connections dealt evenly to the client processes: process p's share. */
function share(total: number, p: number): number {
  return Math.floor(total / CLIENT_PROCESSES) + (p < total % CLIENT_PROCESSES ? 1 : 0);
}

interface Quantiles {
  p50: number | null;
  p99: number | null;
}

/** Where bookcast's own part of the latency went: before its book worker, and up to uWS. */
interface ServerStages {
  apply: Quantiles;
  send: Quantiles;
}

/**
 * bookcast's event-to-apply and L2 event-to-send quantiles from /metrics, in µs (null: no sample
 * in its window, or no answer: a figure beside the measurement, never a reason to lose the row).
 */
async function serverStages(server: ServerProcess): Promise<ServerStages> {
  let text = '';
  try {
    text = await (await fetch(`http://${server.host}:${server.port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  } catch {
    // Every quantile null.
  }
  const lines = text.split('\n');
  const quantile = (series: string, q: string): number | null => {
    const line = lines.find((l) => l.startsWith(`${series}quantile="${q}"}`));
    return line === undefined ? null : Math.round(Number(line.slice(line.lastIndexOf(' ') + 1)) * 1e6);
  };
  const apply = 'bookcast_event_to_apply_latency_seconds{';
  const send = 'bookcast_event_to_send_latency_seconds{channel="l2",';
  return { apply: { p50: quantile(apply, '0.5'), p99: quantile(apply, '0.99') }, send: { p50: quantile(send, '0.5'), p99: quantile(send, '0.99') } };
}

function bookcastRow(point: Point, index: number, seconds: number, serverNice: number | undefined, wakeups: WakeupRecorder | null): Promise<Row> {
  // The server's latency quantiles read at the window's end cover the window, not the start-up.
  process.env.BOOKCAST_METRICS_WINDOW_MS = String(Math.max(METRICS_WINDOW_MIN_MS, Math.round(seconds * 1000)));
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => symbolName(i));
  const processes = Array.from({ length: CLIENT_PROCESSES }, (_, p): ConnectionPlan[] => Array.from({ length: share(point.clients, p) }, () => ({ symbols })));
  return withLatencyClients({ symbols: SYMBOLS, rate: point.arrivals, workers: WORKERS }, { processes, depth: DEPTH, setupTimeoutMs: SETUP_TIMEOUT_MS }, async (server, clients) => {
    if (serverNice !== undefined) reniceThreads(server.pid, serverNice);
    // Read at the window's edges; the quantiles at its end cover the window.
    const probe = async (): Promise<[number, ServerStages]> => [(await server.health()).published, await serverStages(server)];
    const measure = () => measureWindow<ClientMessage, 'result', [number, ServerStages]>(clients, 'result', { seconds, serverPid: server.pid, probe });
    const window = await withWakeups(wakeups, index, 'bookcast', { pid: server.pid, role: 'bookcast' }, clients, measure);
    const [[published0], [published1, stages]] = window.probed!;
    return row('bookcast', point.clients, (published1 - published0) / window.seconds, seconds, window, null, stages);
  });
}

/** Where a peer's clients connect, and how they speak to it. */
function peerClients(kind: FanoutPeerKind, port: number): Pick<PeerStartMessage, 'url' | 'transport' | 'format'> {
  if (kind === 'socket.io') return { url: `http://127.0.0.1:${port}`, transport: 'socket.io', format: 'binary' };
  if (kind === 'soketi') return { url: `ws://127.0.0.1:${port}/app/${SOKETI_APP_KEY}?protocol=7&client=bench&version=1.0.0`, transport: 'pusher', format: 'json' };
  return { url: `ws://127.0.0.1:${port}/`, transport: 'ws', format: kind === 'ws' ? 'json' : 'binary' };
}

async function peerRow(system: Peer, index: number, clientCount: number, rate: number, seconds: number, serverNice: number | undefined, wakeups: WakeupRecorder | null): Promise<Row> {
  const kind = PEER_KIND[system];
  const publisher = fork(PUBLISHER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const clients: ChildProcess[] = [];
  const unguard = guardChildren(() => {
    for (const c of [publisher, ...clients]) c.kill('SIGKILL');
  });
  try {
    const listening = expectMessage<PublisherMessage, 'listening'>(publisher, 'listening', START_TIMEOUT_MS);
    publisher.send({ type: 'serve', kind } satisfies PublisherParentMessage);
    const { port } = await listening;
    if (serverNice !== undefined) reniceThreads(publisher.pid!, serverNice);
    const starts = Array.from({ length: CLIENT_PROCESSES }, (_, p): PeerStartMessage => ({
      type: 'start',
      ...peerClients(kind, port),
      localAddress: sourceAddress(p),
      connections: share(clientCount, p),
      setupTimeoutMs: SETUP_TIMEOUT_MS,
    }));
    await startClients(PEER_CLIENT, starts, clients);
    // The schedule starts now; the window after the warm-up is the clients' to choose.
    const t0Us = nowMicros() + 10_000;
    const windowStartUs = t0Us + WARMUP_MS * 1000;
    const windowEndUs = windowStartUs + seconds * 1e6;
    publisher.send({ type: 'publish', t0Us, rate, startUs: windowStartUs, endUs: windowEndUs, stopUs: windowEndUs + (GRACE_MS + 1000) * 1000 } satisfies PublisherParentMessage);
    const measure = () => measureWindow<ClientMessage, 'result'>(clients, 'result', { seconds, serverPid: publisher.pid! });
    const window = await withWakeups(wakeups, index, system, { pid: publisher.pid!, role: 'server' }, clients, measure);
    // An overloaded publisher answers late: its event loop is busy sending what is due.
    const published = expectMessage<PublisherMessage, 'published'>(publisher, 'published', GRACE_MS + 10_000);
    publisher.send({ type: 'stop' } satisfies PublisherParentMessage);
    // A publisher too far behind to answer still delivered what the clients measured.
    const lagP99 = await published.then((p) => p.lagP99, () => null);
    return row(system, clientCount, rate, seconds, window, lagP99);
  } finally {
    await stopChildren([...clients, publisher]);
    unguard();
  }
}

/** One thread group's waits for a CPU in one row's window (--wakeups). */
interface WakeupRow extends ThreadWaits {
  point: number;
  system: System;
  threads: string;
}

/**
 * --wakeups: runs `measure` (a row's window) with a wake-up probe attached from the end of the
 * warm-up, and files every thread's waits of `processes` (read as the window ends) under
 * `point` and `system`. A probe that cannot run here costs the rows nothing: its reason is kept.
 */
class WakeupRecorder {
  readonly rows: WakeupRow[] = [];
  unavailable: string | null = null;

  async around<T>(point: number, system: System, processes: () => WatchedProcess[], measure: () => Promise<T>): Promise<T> {
    if (this.unavailable !== null) return measure();
    const probe = delay(WARMUP_MS).then(() => WakeupProbe.start());
    probe.catch(() => undefined);
    let result: T;
    try {
      result = await measure();
    } catch (err) {
      await probe.then((p) => p.stop()).catch(() => undefined);
      throw err;
    }
    const labels = threadLabels(processes());
    try {
      const waits = waitsByLabel(await (await probe).stop(), labels);
      for (const [threads, w] of Object.entries(waits)) this.rows.push({ point, system, threads, ...w });
    } catch (err) {
      this.unavailable = (err as Error).message;
    }
    return result;
  }
}

/** `measure` as it is, or under the wake-up probe when --wakeups asked for it (the server's threads and the clients'). */
function withWakeups<T>(wakeups: WakeupRecorder | null, point: number, system: System, server: WatchedProcess, clients: readonly ChildProcess[], measure: () => Promise<T>): Promise<T> {
  if (wakeups === null) return measure();
  return wakeups.around(point, system, () => [server, ...clients.map((c) => ({ pid: c.pid!, role: 'client' }))], measure);
}

const isRow = (r: Row | FailedRow): r is Row => !('error' in r);

type PointRow = (Row | FailedRow) & { point: number };

function ratios(rows: readonly PointRow[], points: readonly Point[], peers: readonly Peer[]): Record<string, Record<string, number | null>> {
  const out: Record<string, Record<string, number | null>> = {};
  points.forEach((point, index) => {
    const find = (system: System) => rows.find((r): r is Row & { point: number } => r.point === index && r.system === system && isRow(r));
    const mine = find('bookcast');
    for (const peer of peers) {
      const other = find(peer);
      out[`${point.clients} clients, ${point.arrivals} arrivals/s: bookcast vs ${peer}`] = {
        delivered: ratio(mine?.deliveredPerSecond, other?.deliveredPerSecond),
        p50: ratio(mine?.p50, other?.p50),
        p99: ratio(mine?.p99, other?.p99),
        serverCpuPerDelivery: ratio(mine?.serverCpuSecondsPerMillion, other?.serverCpuSecondsPerMillion),
      };
    }
  });
  return out;
}

/**
 * What a standalone run may narrow (`--peers uws` for the ceiling alone beside bookcast,
 * `--arrivals 100,1000` for other points at 100 clients), change (`--server-nice -10`: every
 * server's threads at that nice value, the clients left at theirs, as if the clients ran on other
 * machines; below 0 needs root) or add (`--wakeups`: how long each thread of the server and the
 * clients waited for a CPU once ready, over each row's window; bpftrace, root): the runner
 * always runs everything as it is.
 */
export interface FanoutSelection {
  peers?: readonly FanoutPeerKind[];
  arrivals?: readonly number[];
  serverNice?: number;
  wakeups?: boolean;
}

export async function run(opts: { seconds: number; full: boolean } & FanoutSelection): Promise<object> {
  const points = opts.arrivals?.map((arrivals): Point => ({ clients: 100, arrivals })) ?? (opts.full ? FULL_POINTS : QUICK_POINTS);
  const peers = opts.peers === undefined ? PEERS : PEERS.filter((p) => opts.peers!.includes(PEER_KIND[p]));
  const rows: PointRow[] = [];
  const wakeups = opts.wakeups === true ? new WakeupRecorder() : null;
  for (let index = 0; index < points.length; index++) {
    const point = points[index];
    let rate: number | null = null;
    try {
      const mine = await bookcastRow(point, index, opts.seconds, opts.serverNice, wakeups);
      rate = mine.messagesPerSecond;
      rows.push({ point: index, ...mine });
    } catch (err) {
      rows.push({ point: index, system: 'bookcast', clients: point.clients, messagesPerSecond: null, error: (err as Error).message });
    }
    // Without bookcast's rate there is no common workload to hold the peers to.
    if (rate === null || rate === 0) continue;
    for (const system of peers) {
      try {
        rows.push({ point: index, ...(await peerRow(system, index, point.clients, rate, opts.seconds, opts.serverNice, wakeups)) });
      } catch (err) {
        rows.push({ point: index, system, clients: point.clients, messagesPerSecond: rate, error: (err as Error).message.split('\n')[0] });
      }
    }
  }
  if (!rows.some(isRow)) throw new Error(`every point failed; the first: ${(rows[0] as FailedRow).error}`);
  return {
    name: 'FanoutPeers',
    unit: 'µs from intended (due) time to client receipt; deliveries/s over all clients',
    clientProcesses: CLIENT_PROCESSES,
    bookcast: `--symbols '' --symbol-count ${SYMBOLS} --workers ${WORKERS}, L2 depth ${DEPTH} of all ${SYMBOLS} symbols per client, FlatBuffers`,
    peers: Object.fromEntries(['ws', 'socket.io', 'socket.io-client', '@soketi/soketi'].map((name) => [name, peerVersion(name) ?? 'not installed'])),
    warmupSeconds: WARMUP_MS / 1000,
    serverNice: opts.serverNice ?? null,
    loadAverageEnd: loadAverage(),
    rows,
    ratios: ratios(rows, points, peers),
    ...(wakeups === null ? {} : { wakeups: wakeups.rows, wakeupsUnavailable: wakeups.unavailable }),
  };
}

/** `--name a,b` from the command line, or undefined. */
function listArgument(name: string): string[] | undefined {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : (process.argv[at + 1] ?? '').split(',').filter((s) => s !== '');
}

if (require.main === module) {
  const peers = listArgument('--peers') as FanoutPeerKind[] | undefined;
  const arrivals = listArgument('--arrivals')?.map(Number);
  if (arrivals?.some((a) => !(a > 0))) throw new Error('--arrivals takes positive numbers, e.g. --arrivals 100,1000');
  const nice = commandOption('--server-nice');
  const serverNice = nice === undefined ? undefined : Number(nice);
  if (serverNice !== undefined && !(Number.isInteger(serverNice) && serverNice >= -20 && serverNice <= 19)) throw new Error('--server-nice takes a nice value from -20 to 19');
  runStandalone((opts) => run({ ...opts, peers, arrivals, serverNice, wakeups: process.argv.includes('--wakeups') }), 5);
}
