import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { BackoffIdleStrategy } from '../../src/ring/idle-strategy';
import { BACK_PRESSURED, RecordHandler, SpscRing } from '../../src/ring/spsc-ring';
import { runStandalone } from '../standalone';

/**
 * OneToOneThroughput: 64-byte records (eight float64 words, the size of an input event) from
 * a producer thread to a consumer thread through one SpscRing, both busy-polling with a long
 * spin phase. The consumer reads all eight words of every record. Scenarios: commit (and
 * publish) each record, or commitLazy and publish once per batch, as the book worker does;
 * each on a 64 KiB and a 1 MiB ring. Bytes/s count payload bytes (the ring carries 72 per
 * record with its header). Besides the overall rate, the consumer reports the best and median
 * 100 ms windows: on a machine shared with other work, two spinning threads are sometimes
 * time-sliced on one core, and the overall rate then measures the scheduler.
 */

const PAYLOAD = 64;
const WORDS = PAYLOAD / 8;
const DATA = 1;
const STOP = 2;
const READ_LIMIT = 256;
const WINDOW_MS = 100;

interface Scenario {
  name: string;
  capacity: number;
  batch: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'commit each, 64 KiB', capacity: 1 << 16, batch: 1 },
  { name: 'publish per 32, 64 KiB', capacity: 1 << 16, batch: 32 },
  { name: 'commit each, 1 MiB', capacity: 1 << 20, batch: 1 },
  { name: 'publish per 32, 1 MiB', capacity: 1 << 20, batch: 32 },
];

interface Role {
  bench: 'one-to-one-throughput';
  role: 'producer' | 'consumer';
  sab: SharedArrayBuffer;
  batch: number;
  seconds: number;
}

interface Result {
  records: number;
  seconds: number;
  checksum: number;
}

function produce(r: Role): Result {
  const ring = new SpscRing(r.sab);
  const f64 = ring.f64;
  const idle = new BackoffIdleStrategy(100_000, 1);
  const end = performance.now() + r.seconds * 1000;
  let seq = 0;
  let checksum = 0;
  for (;;) {
    for (let k = 0; k < 1024; k++) {
      let offset = ring.tryClaim(PAYLOAD, DATA);
      while (offset === BACK_PRESSURED) {
        ring.publish();
        idle.idle(0, ring.space);
        offset = ring.tryClaim(PAYLOAD, DATA);
      }
      idle.idle(1, ring.space);
      const w = offset >> 3;
      for (let i = 0; i < WORDS; i++) f64[w + i] = seq + i;
      checksum += seq;
      seq++;
      if (r.batch === 1) {
        ring.commit();
      } else {
        ring.commitLazy();
        if (seq % r.batch === 0) ring.publish();
      }
    }
    if (performance.now() >= end) break;
  }
  let offset = ring.tryClaim(0, STOP);
  while (offset === BACK_PRESSURED) {
    ring.publish();
    idle.idle(0, ring.space);
    offset = ring.tryClaim(0, STOP);
  }
  ring.commit();
  return { records: seq, seconds: r.seconds, checksum };
}

class Summer implements RecordHandler {
  records = 0;
  checksum = 0;
  stopped = false;
  errors = 0;

  constructor(private readonly f64: Float64Array) {}

  onRecord(type: number, offset: number): void {
    if (type === STOP) {
      this.stopped = true;
      return;
    }
    const f = this.f64;
    const w = offset >> 3;
    let sum = 0;
    for (let i = 0; i < WORDS; i++) sum += f[w + i];
    if (sum !== WORDS * f[w] + (WORDS * (WORDS - 1)) / 2) this.errors++;
    this.checksum += f[w];
    this.records++;
  }
}

interface Consumed extends Result {
  errors: number;
  /** Records/s in each WINDOW_MS window: on a shared machine the best window shows the ring, the overall rate the scheduler. */
  windows: number[];
}

function consume(r: Role): Consumed {
  const ring = new SpscRing(r.sab);
  const summer = new Summer(ring.f64);
  const idle = new BackoffIdleStrategy(100_000, 1);
  const windows: number[] = [];
  // Timed from the first record, so worker start-up skew does not count.
  while (ring.isEmpty()) idle.idle(0, ring);
  const start = performance.now();
  let windowStart = start;
  let windowRecords = 0;
  while (!summer.stopped) {
    idle.idle(ring.read(summer, READ_LIMIT), ring);
    if (summer.records - windowRecords >= 16_384) {
      const now = performance.now();
      if (now - windowStart >= WINDOW_MS) {
        windows.push(((summer.records - windowRecords) * 1000) / (now - windowStart));
        windowStart = now;
        windowRecords = summer.records;
      }
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return { records: summer.records, seconds, checksum: summer.checksum, errors: summer.errors, windows };
}

async function scenario(s: Scenario, seconds: number): Promise<object> {
  const sab = SpscRing.allocate(s.capacity);
  const base = { bench: 'one-to-one-throughput', sab, batch: s.batch, seconds };
  const consumer = new Worker(__filename, { workerData: { ...base, role: 'consumer' } });
  const producer = new Worker(__filename, { workerData: { ...base, role: 'producer' } });
  const [[c], [p]] = (await Promise.all([once(consumer, 'message'), once(producer, 'message')])) as [[Consumed], [Result]];
  await Promise.all([consumer.terminate(), producer.terminate()]);
  if (c.records !== p.records || c.checksum !== p.checksum || c.errors !== 0) {
    throw new Error(`${s.name}: consumer saw ${c.records} records (${c.errors} bad), producer sent ${p.records}`);
  }
  const windows = c.windows.sort((a, b) => a - b);
  return {
    scenario: s.name,
    records: c.records,
    overall: rate(c.records / c.seconds),
    bestWindow: rate(windows.length > 0 ? windows[windows.length - 1] : 0),
    medianWindow: rate(windows.length > 0 ? windows[windows.length >> 1] : 0),
  };
}

function rate(perSecond: number): object {
  return {
    recordsPerSecond: Math.round(perSecond),
    megabytesPerSecond: Math.round((perSecond * PAYLOAD) / 1e5) / 10,
    nsPerRecord: perSecond > 0 ? Math.round((1e9 / perSecond) * 10) / 10 : null,
  };
}

export async function run(opts: { seconds: number }): Promise<object> {
  const each = opts.seconds / SCENARIOS.length;
  const results = [];
  for (const s of SCENARIOS) results.push(await scenario(s, each));
  return { name: 'OneToOneThroughput', payloadBytes: PAYLOAD, results };
}

if (!isMainThread && (workerData as Role | null)?.bench === 'one-to-one-throughput') {
  const r = workerData as Role;
  parentPort!.postMessage(r.role === 'producer' ? produce(r) : consume(r));
} else if (require.main === module) {
  runStandalone(run, 8);
}
