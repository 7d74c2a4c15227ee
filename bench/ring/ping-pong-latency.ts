import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { BackoffIdleStrategy } from '../../src/ring/idle-strategy';
import { BACK_PRESSURED, RecordHandler, SpscRing } from '../../src/ring/spsc-ring';
import { runStandalone } from '../standalone';

/**
 * PingPongLatency: round-trip time of one 64-byte record from thread A to thread B through
 * one SpscRing and back through another, as an HDR histogram in nanoseconds. Scenarios by idle
 * strategy on both sides: 'spin' never sleeps (the latency floor: two cache-line transfers
 * each way); 'park' sleeps on every wait, so each leg includes an Atomics.notify and a thread
 * wake-up; 'backoff 2000' is what the book worker uses (spin 2000 polls, then park), and
 * behaves like 'spin' while round trips are faster than the spin phase.
 * Timing uses performance.now() (about 40 ns per call), included in every sample.
 */

const PAYLOAD = 64;
const PING = 1;
const STOP = 2;
const WARMUP = 5_000;

interface Scenario {
  name: string;
  spins: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'spin', spins: 1e9 },
  { name: 'backoff 2000', spins: 2000 },
  { name: 'park', spins: 0 },
];

interface Role {
  bench: 'ping-pong-latency';
  role: 'ping' | 'pong';
  ping: SharedArrayBuffer;
  pong: SharedArrayBuffer;
  spins: number;
  seconds: number;
}

interface Summary {
  roundTrips: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  mean: number | null;
}

function send(ring: SpscRing, type: number, value: number, idle: BackoffIdleStrategy): void {
  let offset = ring.tryClaim(PAYLOAD, type);
  while (offset === BACK_PRESSURED) {
    idle.idle(0, ring.space);
    offset = ring.tryClaim(PAYLOAD, type);
  }
  ring.f64[offset >> 3] = value;
  ring.commit();
}

/** Copies the last record's first word out; for the echo and the stop flag. */
class Last implements RecordHandler {
  type = 0;
  value = 0;

  constructor(private readonly f64: Float64Array) {}

  onRecord(type: number, offset: number): void {
    this.type = type;
    this.value = this.f64[offset >> 3];
  }
}

function pinger(r: Role): Summary {
  const out = new SpscRing(r.ping);
  const back = new SpscRing(r.pong);
  const last = new Last(back.f64);
  const idle = new BackoffIdleStrategy(r.spins, 1000);
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e9, numberOfSignificantValueDigits: 3 });
  const end = performance.now() + r.seconds * 1000;
  for (let i = 0; ; i++) {
    const start = performance.now();
    send(out, PING, start, idle);
    idle.idle(1, back);
    while (!back.readOne(last)) idle.idle(0, back);
    idle.idle(1, back);
    const ns = (performance.now() - start) * 1e6;
    if (last.value !== start) throw new Error('pong carried the wrong timestamp');
    if (i >= WARMUP) histogram.recordValue(Math.max(1, Math.round(ns)));
    if ((i & 1023) === 0 && start >= end) break;
  }
  send(out, STOP, 0, idle);
  const empty = histogram.totalCount === 0; // starved past the warm-up by other load
  const summary = {
    roundTrips: histogram.totalCount,
    p50: empty ? null : histogram.getValueAtPercentile(50),
    p99: empty ? null : histogram.getValueAtPercentile(99),
    p999: empty ? null : histogram.getValueAtPercentile(99.9),
    max: empty ? null : histogram.maxValue,
    mean: empty ? null : Math.round(histogram.mean),
  };
  histogram.destroy();
  return summary;
}

function ponger(r: Role): number {
  const inbound = new SpscRing(r.ping);
  const out = new SpscRing(r.pong);
  const last = new Last(inbound.f64);
  const idle = new BackoffIdleStrategy(r.spins, 1000);
  let echoed = 0;
  for (;;) {
    while (!inbound.readOne(last)) idle.idle(0, inbound);
    idle.idle(1, inbound);
    if (last.type === STOP) return echoed;
    send(out, PING, last.value, idle);
    echoed++;
  }
}

async function scenario(s: Scenario, seconds: number): Promise<object> {
  const base = { bench: 'ping-pong-latency', ping: SpscRing.allocate(4096), pong: SpscRing.allocate(4096), spins: s.spins, seconds };
  const pong = new Worker(__filename, { workerData: { ...base, role: 'pong' } });
  const ping = new Worker(__filename, { workerData: { ...base, role: 'ping' } });
  const [[summary]] = (await Promise.all([once(ping, 'message'), once(pong, 'message')])) as [[Summary], [number]];
  await Promise.all([ping.terminate(), pong.terminate()]);
  return { scenario: s.name, unit: 'ns round trip', ...summary };
}

export async function run(opts: { seconds: number }): Promise<object> {
  const each = opts.seconds / SCENARIOS.length;
  const results = [];
  for (const s of SCENARIOS) results.push(await scenario(s, each));
  return { name: 'PingPongLatency', payloadBytes: PAYLOAD, results };
}

if (!isMainThread && (workerData as Role | null)?.bench === 'ping-pong-latency') {
  const r = workerData as Role;
  parentPort!.postMessage(r.role === 'ping' ? pinger(r) : ponger(r));
} else if (require.main === module) {
  runStandalone(run, 9);
}
