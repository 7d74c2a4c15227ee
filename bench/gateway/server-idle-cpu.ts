import * as path from 'node:path';
import WebSocket from 'ws';
import { loadAverage, round } from '../system';
import { commandOption, runStandalone } from '../standalone';
import { DataDir } from './data-dir';
import { guardChildren } from './exit-guard';
import { threadCores, ThreadRow, threadReadings } from './process-readings';
import { delay, ServerProcess, symbolName } from './server-process';

/**
 * ServerIdleCpu: what the server process costs with nobody connected, thread by thread, in two
 * cases (issue 15 goal 1: CPU follows load):
 *
 *   no events      `--source none`: nothing to do, so every wake-up is a timer or a poll
 *                  (goal: at most 0.01 of a core)
 *   1k arrivals/s  the simulator at `--rate 1000` (goal: at most 0.05 of a core)
 *   100 arrivals/s, one subscriber
 *                  the simulator at `--rate 100` and one WebSocket client of this process
 *                  subscribed to L2 depth 10 of every symbol (FlatBuffers): what a trickle of
 *                  deliveries wakes on the front thread, as server CPU per delivery (no goal
 *                  of its own; goal 1 compares CPU per delivery with the bare-uWS ceiling in
 *                  gateway/fanout-peers)
 *
 * Each case is `node dist/src/main.js --auth off --public-rate off --port 0 --symbols ''
 * --symbol-count 100` (default worker count, fresh --data-dir). After its banner and SETTLE_MS
 * for the start-up's leftovers, the time on a CPU of every thread (/proc/<pid>/task/<tid>/schedstat,
 * exact) over a window of `seconds` gives cores per thread, and
 * voluntary_ctxt_switches the thread's sleeps, i.e. its wake-ups per second: CPU depends on what
 * else runs on the machine, the wake-ups much less. The server names its own threads
 * (src/util/thread-name.ts); Node's (V8's platform workers, libuv's pool) stay "node" and are
 * summed as one row.
 *
 * `--against <checkout>` runs the same cases on another build (its dist/src/main.js) taking turns
 * with this one, `--rounds n` times (1 quick, 3 full): on a shared machine only figures from the
 * same run compare. Standalone: `node dist/bench/gateway/server-idle-cpu.js [seconds] [--full]
 * [--rounds n] [--against /work/wt/base]`.
 */

interface Case {
  name: string;
  args: string[];
  goalCores: number | null;
  subscriber: boolean;
}

const CASES: readonly Case[] = [
  { name: 'no events', args: ['--source', 'none'], goalCores: 0.01, subscriber: false },
  { name: '1k arrivals/s', args: ['--rate', '1000'], goalCores: 0.05, subscriber: false },
  { name: '100 arrivals/s, one subscriber', args: ['--rate', '100'], goalCores: null, subscriber: true },
];
const SYMBOL_COUNT = 100;
const SERVER_ARGS = ['--port', '0', '--symbols', '', '--symbol-count', String(SYMBOL_COUNT)];
/** bookcast creates its embedded store on start: seconds, and over a minute when other jobs load the 2 cores. */
const START_TIMEOUT_MS = 180_000;
/**
 * The start-up's leftovers: migrations, the first checkpoint, and V8's platform threads compiling
 * and collecting what the start made, 0.005-0.012 of a core still 3 s after the banner (what this
 * bench waited until 2026-12-05) and gone by 15 s.
 */
const SETTLE_MS = 15_000;
const THIS_BUILD = path.resolve(__dirname, '../../src/main.js');

interface Measurement {
  build: string;
  case: string;
  round: number;
  cores: number;
  goalCores: number | null;
  met: boolean | null;
  wakeupsPerSecond: number;
  /** With a subscriber: messages it received per second, and the server's CPU µs per message. */
  deliveriesPerSecond: number | null;
  cpuMicrosPerDelivery: number | null;
  threads: ThreadRow[];
  loadAverageStart: number[];
  loadAverageEnd: number[];
}


/** A client subscribed to L2 depth 10 of every symbol; resolves once the subscription is acknowledged. */
async function subscribe(server: ServerProcess): Promise<{ socket: WebSocket; received: () => number }> {
  const socket = new WebSocket(server.url, { perMessageDeflate: false });
  let received = 0;
  const symbols = Array.from({ length: SYMBOL_COUNT }, (_, i) => symbolName(i));
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', channels: ['l2'], symbols, depth: 10 })));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) received++;
      else if ((JSON.parse(data.toString()) as { type: string }).type === 'subscribed') resolve();
      else reject(new Error(`server-idle-cpu: the subscription was answered with ${data.toString()}`));
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('server-idle-cpu: the subscriber was closed')));
  });
  return { socket, received: () => received };
}

async function measure(build: string, main: string, c: Case, roundNo: number, seconds: number): Promise<Measurement> {
  const dataDir = new DataDir();
  let server: ServerProcess;
  try {
    server = await ServerProcess.start([...SERVER_ARGS, ...c.args, ...dataDir.args], START_TIMEOUT_MS, main);
  } catch (err) {
    dataDir.remove();
    throw err;
  }
  const unguard = guardChildren(() => {
    server.killNow();
    dataDir.remove();
  });
  const client = c.subscriber ? await subscribe(server) : null;
  try {
    await delay(SETTLE_MS);
    const loadAverageStart = loadAverage();
    const before = threadReadings(server.pid);
    const receivedBefore = client?.received() ?? 0;
    const t0 = performance.now();
    await delay(seconds * 1000);
    const after = threadReadings(server.pid);
    const elapsed = (performance.now() - t0) / 1000;
    const deliveries = client === null ? null : (client.received() - receivedBefore) / elapsed;
    if (server.exited) throw new Error(`the server exited during the window\n--- server output ---\n${server.recentOutput}`);
    const threads = threadCores(before, after, server.pid, elapsed);
    const cores = round(
      threads.reduce((sum, t) => sum + t.cores, 0),
      4,
    );
    const wakeupsPerSecond = round(
      threads.reduce((sum, t) => sum + t.wakeupsPerSecond, 0),
      1,
    );
    const perDelivery = deliveries === null || deliveries === 0 ? null : round((cores * 1e6) / deliveries, 2);
    return {
      build,
      case: c.name,
      round: roundNo,
      cores,
      goalCores: c.goalCores,
      met: c.goalCores === null ? null : cores <= c.goalCores,
      wakeupsPerSecond,
      deliveriesPerSecond: deliveries === null ? null : round(deliveries, 1),
      cpuMicrosPerDelivery: perDelivery,
      threads,
      loadAverageStart,
      loadAverageEnd: loadAverage(),
    };
  } finally {
    client?.socket.terminate();
    await server.stop();
    dataDir.remove();
    unguard();
  }
}

function describe(m: Measurement): string {
  const rows = m.threads.map((t) => `  ${t.name}${t.threads > 1 ? ` ×${t.threads}` : ''}: ${t.cores.toFixed(4)} cores, ${t.wakeupsPerSecond} wake-ups/s`);
  const goal = m.goalCores === null ? '' : ` (goal ${m.goalCores})`;
  const deliveries = m.deliveriesPerSecond === null ? '' : `, ${m.deliveriesPerSecond} deliveries/s, ${m.cpuMicrosPerDelivery} µs of CPU per delivery`;
  return [`${m.build}, ${m.case}, round ${m.round}: ${m.cores.toFixed(4)} cores${goal}, ${m.wakeupsPerSecond} wake-ups/s${deliveries}, load ${m.loadAverageStart.join(' / ')}`, ...rows].join('\n');
}

export async function run(opts: { seconds: number; full: boolean }) {
  const against = commandOption('--against');
  const rounds = Number(commandOption('--rounds') ?? (opts.full ? 3 : 1));
  const builds: [string, string][] = [['this build', THIS_BUILD]];
  if (against !== undefined) builds.push([against, path.resolve(against, 'dist/src/main.js')]);
  const measurements: Measurement[] = [];
  for (let r = 1; r <= rounds; r++) {
    for (const c of CASES) {
      // Taking turns within a round: both builds see the same machine, minutes apart at most.
      for (const [build, main] of r % 2 === 1 ? builds : [...builds].reverse()) {
        const m = await measure(build, main, c, r, opts.seconds);
        console.error(describe(m));
        measurements.push(m);
      }
    }
  }
  return { windowSeconds: opts.seconds, rounds, measurements };
}

if (require.main === module) runStandalone(run, 10);
