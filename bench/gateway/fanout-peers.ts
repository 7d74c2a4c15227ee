import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { peerVersion } from '../peers';
import { loadAverage, machineBusySeconds, processCpuSeconds, round } from '../system';
import { expectMessage, LatencySummary, mergeHistograms, nowMicros, ratio, sleepUntil, stopChildren } from './child-processes';
import type { ClientMessage, ConnectionPlan, ParentMessage, ResultMessage } from './client-protocol';
import type { FanoutPeerKind, PeerClientParentMessage, PublisherMessage, PublisherParentMessage } from './fanout-protocol';
import { DataDir } from './data-dir';
import { ServerProcess } from './server-process';

/**
 * FanoutPeers: the same fan-out workload (C clients each receiving every message of a stream
 * published at M messages/s, so C·M deliveries/s) through four servers, each in its own process,
 * one at a time, with the same client processes and the same clock:
 *
 *   uWS ceiling  bare uWebSockets.js publishing a ~100-byte binary message to one topic (no engine)
 *   bookcast     the product on its simulator (--symbols '' --symbol-count 10 --rate R
 *                --workers 1, a fresh temporary --data-dir); every client subscribes to L2
 *                depth 10 of all 10 symbols in FlatBuffers (latency-client.ts)
 *   ws           the ws package as a typical Node reference implementation: JSON.stringify once
 *                per broadcast, ws.send per client
 *   Socket.IO    binary emit to a room every client joined
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
const WARMUP_MS = 2000;
const GRACE_MS = 5000;
/** bookcast creates its embedded store on start: seconds on a busy machine. */
const START_TIMEOUT_MS = 60_000;
const SETUP_TIMEOUT_MS = 30_000;
const LATENCY_CLIENT = path.join(__dirname, 'latency-client.js');
const PEER_CLIENT = path.join(__dirname, 'fanout-client.js');
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

const SYSTEMS = ['uWS ceiling', 'bookcast', 'ws', 'Socket.IO'] as const;
type System = (typeof SYSTEMS)[number];
const PEER_KIND: Record<Exclude<System, 'bookcast'>, FanoutPeerKind> = { 'uWS ceiling': 'uws', ws: 'ws', 'Socket.IO': 'socket.io' };

interface Row extends LatencySummary {
  system: System;
  clients: number;
  messagesPerSecond: number;
  deliveredPerSecond: number;
  /** Delivered over what the publish rate and the fan-out call for. */
  deliveredShare: number;
  bytesPerMessage: number;
  gaps: number;
  resyncs: number;
  disconnects: number;
  lateStreams: number;
  errors: string;
  /** Peers: the publisher's own lateness (due time to publish), p99 µs, included in the latencies. */
  publisherLagP99: number | null;
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

interface Window {
  reports: ResultMessage[];
  seconds: number;
  serverCpuSeconds: number | null;
  machineBusyCores: number | null;
  /** What `probe` read at the window's start and end. */
  probed: [number, number] | null;
}

function symbolName(index: number): string {
  return `SIM${String(index + 1).padStart(3, '0')}/USD`;
}

/**
 * Sends 'measure' to ready clients and gathers their results; the server's CPU and `probe`
 * (bookcast's publish counter) are read at the window's edges.
 */
async function measureWindow(clients: readonly ChildProcess[], serverPid: number, seconds: number, probe: (() => Promise<number>) | null): Promise<Window> {
  const startUs = nowMicros() + WARMUP_MS * 1000;
  const endUs = startUs + seconds * 1e6;
  const results = clients.map((c) => expectMessage<ClientMessage, 'result'>(c, 'result', WARMUP_MS + seconds * 1000 + GRACE_MS + 10_000));
  // A rejection is handled when the results are awaited; do not let it count as unhandled.
  for (const r of results) r.catch(() => undefined);
  for (const c of clients) c.send({ type: 'measure', startUs, endUs, graceMs: GRACE_MS } satisfies ParentMessage);
  await sleepUntil(startUs);
  const probe0 = probe === null ? 0 : await probe();
  const at0 = nowMicros();
  const cpu0 = processCpuSeconds(serverPid);
  const busy0 = machineBusySeconds();
  await sleepUntil(endUs);
  const probe1 = probe === null ? 0 : await probe();
  const at1 = nowMicros();
  const cpu1 = processCpuSeconds(serverPid);
  const busy1 = machineBusySeconds();
  const windowSeconds = (at1 - at0) / 1e6;
  return {
    reports: await Promise.all(results),
    seconds: windowSeconds,
    serverCpuSeconds: cpu0 === null || cpu1 === null ? null : round(cpu1 - cpu0, 2),
    machineBusyCores: busy0 === null || busy1 === null ? null : round((busy1 - busy0) / windowSeconds, 2),
    probed: probe === null ? null : [probe0, probe1],
  };
}

function row(system: System, clients: number, messagesPerSecond: number, seconds: number, window: Window, publisherLagP99: number | null): Row {
  const reports = window.reports;
  const sum = (f: (r: ResultMessage) => number) => reports.reduce((s, r) => s + f(r), 0);
  const delivered = sum((r) => r.messages);
  const errors: Record<string, number> = {};
  for (const r of reports) for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
  const deliveredPerSecond = Math.round(delivered / seconds);
  return {
    system,
    clients,
    messagesPerSecond: Math.round(messagesPerSecond),
    deliveredPerSecond,
    deliveredShare: round(deliveredPerSecond / (messagesPerSecond * clients), 3),
    bytesPerMessage: delivered === 0 ? 0 : Math.round(sum((r) => r.bytes) / delivered),
    ...mergeHistograms(reports.map((r) => r.histogram)),
    gaps: sum((r) => r.gaps),
    resyncs: sum((r) => r.resyncs),
    disconnects: sum((r) => r.disconnects),
    lateStreams: sum((r) => r.lateStreams),
    errors: Object.entries(errors).map(([code, n]) => `${code} ${n}`).join(', '),
    publisherLagP99,
    serverCpuSeconds: window.serverCpuSeconds,
    serverCpuSecondsPerMillion: window.serverCpuSeconds === null || delivered === 0 ? null : round((window.serverCpuSeconds * 1e6) / delivered, 2),
    clientCpuSeconds: round(sum((r) => r.cpuSeconds), 2),
    machineBusyCores: window.machineBusyCores,
  };
}

function forkClients(script: string, starts: readonly (ParentMessage | PeerClientParentMessage)[]): ChildProcess[] {
  return starts.map((start) => {
    const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.send(start);
    return child;
  });
}

async function bookcastRow(point: Point, seconds: number): Promise<Row> {
  const dataDir = new DataDir();
  let server: ServerProcess;
  try {
    server = await ServerProcess.start(
      ['--port', '0', '--symbols', '', '--symbol-count', String(SYMBOLS), '--rate', String(point.arrivals), '--workers', String(WORKERS), ...dataDir.args],
      START_TIMEOUT_MS,
    );
  } catch (err) {
    dataDir.remove();
    throw err;
  }
  let clients: ChildProcess[] = [];
  const guard = () => {
    server.killNow();
    for (const c of clients) c.kill('SIGKILL');
    dataDir.remove();
  };
  process.on('exit', guard);
  try {
    const symbols = Array.from({ length: SYMBOLS }, (_, i) => symbolName(i));
    const starts = Array.from({ length: CLIENT_PROCESSES }, (_, p): ParentMessage => {
      const count = Math.floor(point.clients / CLIENT_PROCESSES) + (p < point.clients % CLIENT_PROCESSES ? 1 : 0);
      const connections: ConnectionPlan[] = Array.from({ length: count }, () => ({ symbols }));
      return { type: 'start', url: server.url, connections, depth: DEPTH, setupTimeoutMs: SETUP_TIMEOUT_MS };
    });
    clients = forkClients(LATENCY_CLIENT, starts);
    await Promise.all(clients.map((c) => expectMessage<ClientMessage, 'ready'>(c, 'ready', SETUP_TIMEOUT_MS + 5000)));
    const window = await measureWindow(clients, server.pid, seconds, async () => (await server.health()).published);
    const [published0, published1] = window.probed!;
    return row('bookcast', point.clients, (published1 - published0) / window.seconds, seconds, window, null);
  } catch (err) {
    const e = err as Error;
    e.message += `\n--- server output ---\n${server.recentOutput}`;
    throw e;
  } finally {
    await stopChildren(clients);
    await server.stop();
    dataDir.remove();
    process.off('exit', guard);
  }
}

async function peerRow(system: Exclude<System, 'bookcast'>, clientCount: number, rate: number, seconds: number): Promise<Row> {
  const kind = PEER_KIND[system];
  const publisher = fork(PUBLISHER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let clients: ChildProcess[] = [];
  const guard = () => {
    for (const c of [publisher, ...clients]) c.kill('SIGKILL');
  };
  process.on('exit', guard);
  try {
    const listening = expectMessage<PublisherMessage, 'listening'>(publisher, 'listening', START_TIMEOUT_MS);
    publisher.send({ type: 'serve', kind } satisfies PublisherParentMessage);
    const { port } = await listening;
    const url = kind === 'socket.io' ? `http://127.0.0.1:${port}` : `ws://127.0.0.1:${port}/`;
    const starts = Array.from({ length: CLIENT_PROCESSES }, (_, p): PeerClientParentMessage => ({
      type: 'start',
      url,
      transport: kind === 'socket.io' ? 'socket.io' : 'ws',
      format: kind === 'ws' ? 'json' : 'binary',
      connections: Math.floor(clientCount / CLIENT_PROCESSES) + (p < clientCount % CLIENT_PROCESSES ? 1 : 0),
      setupTimeoutMs: SETUP_TIMEOUT_MS,
    }));
    clients = forkClients(PEER_CLIENT, starts);
    await Promise.all(clients.map((c) => expectMessage<ClientMessage, 'ready'>(c, 'ready', SETUP_TIMEOUT_MS + 5000)));
    // The schedule starts now; the window after the warm-up is the clients' to choose.
    const t0Us = nowMicros() + 10_000;
    const windowStartUs = t0Us + WARMUP_MS * 1000;
    const windowEndUs = windowStartUs + seconds * 1e6;
    publisher.send({ type: 'publish', t0Us, rate, startUs: windowStartUs, endUs: windowEndUs, stopUs: windowEndUs + (GRACE_MS + 1000) * 1000 } satisfies PublisherParentMessage);
    const window = await measureWindow(clients, publisher.pid!, seconds, null);
    // An overloaded publisher answers late: its event loop is busy sending what is due.
    const published = expectMessage<PublisherMessage, 'published'>(publisher, 'published', GRACE_MS + 10_000);
    publisher.send({ type: 'stop' } satisfies PublisherParentMessage);
    // A publisher too far behind to answer still delivered what the clients measured.
    const lagP99 = await published.then((p) => p.lagP99, () => null);
    return row(system, clientCount, rate, seconds, window, lagP99);
  } finally {
    await stopChildren([...clients, publisher]);
    process.off('exit', guard);
  }
}

const isRow = (r: Row | FailedRow): r is Row => !('error' in r);

type PointRow = (Row | FailedRow) & { point: number };

function ratios(rows: readonly PointRow[], points: readonly Point[]): Record<string, Record<string, number | null>> {
  const out: Record<string, Record<string, number | null>> = {};
  points.forEach((point, index) => {
    const find = (system: System) => rows.find((r): r is Row & { point: number } => r.point === index && r.system === system && isRow(r));
    const mine = find('bookcast');
    for (const peer of ['uWS ceiling', 'ws', 'Socket.IO'] as const) {
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

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const points = opts.full ? FULL_POINTS : QUICK_POINTS;
  const rows: PointRow[] = [];
  for (let index = 0; index < points.length; index++) {
    const point = points[index];
    let rate: number | null = null;
    try {
      const mine = await bookcastRow(point, opts.seconds);
      rate = mine.messagesPerSecond;
      rows.push({ point: index, ...mine });
    } catch (err) {
      rows.push({ point: index, system: 'bookcast', clients: point.clients, messagesPerSecond: null, error: (err as Error).message });
    }
    // Without bookcast's rate there is no common workload to hold the peers to.
    if (rate === null || rate === 0) continue;
    for (const system of ['uWS ceiling', 'ws', 'Socket.IO'] as const) {
      try {
        rows.push({ point: index, ...(await peerRow(system, point.clients, rate, opts.seconds)) });
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
    peers: { ws: peerVersion('ws') ?? 'not installed', 'socket.io': peerVersion('socket.io') ?? 'not installed', 'socket.io-client': peerVersion('socket.io-client') ?? 'not installed' },
    warmupSeconds: WARMUP_MS / 1000,
    loadAverageEnd: loadAverage(),
    rows,
    ratios: ratios(rows, points),
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
