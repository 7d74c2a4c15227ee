import t from 'tap';
import { allocateSharedLatency, bucketUpperUs, LATENCY_BUCKETS, latencyBucket, SharedLatencyWindow, SharedLatencyWriter } from '../../src/ring/shared-latency';

t.test('every latency falls in a bucket whose upper bound is at most 12.5% above it', async (t) => {
  let previous = -1;
  let worst = 0;
  const misplaced: string[] = [];
  for (let v = 0; v < 1 << 20; v += v < 4096 ? 1 : 97) {
    const b = latencyBucket(v);
    const upper = bucketUpperUs(b);
    if (b < previous || upper < v || (b > 0 && bucketUpperUs(b - 1) >= v)) misplaced.push(`${v} in bucket ${b} (to ${upper}, after ${previous})`);
    previous = b;
    if (v > 0) worst = Math.max(worst, (upper - v) / v);
  }
  t.same(misplaced, [], 'buckets grow with the latency, and each holds its values between the one below and its upper bound');
  t.ok(worst <= 0.125, `at most 12.5% high (worst ${(worst * 100).toFixed(1)}%)`);
  t.equal(latencyBucket(-5), 0, 'a negative latency (clocks apart) counts as 0');
  t.equal(latencyBucket(7.9), 7, 'fractions of a µs round down');
  t.equal(latencyBucket(1e12), LATENCY_BUCKETS - 1, 'beyond 67 s: the top bucket');
  t.equal(bucketUpperUs(LATENCY_BUCKETS - 1), 2 ** 26 - 1);
});

t.test('quantiles cover every writer, over the window, from the buckets', async (t) => {
  const a = allocateSharedLatency();
  const b = allocateSharedLatency();
  const window = new SharedLatencyWindow([a, b]);
  t.same(window.quantiles(), { p50: null, p95: null, p99: null, samples: 0 }, 'nothing recorded yet');
  const first = new SharedLatencyWriter(a);
  const second = new SharedLatencyWriter(b);
  // 1..1000 µs once each, split between the two writers.
  for (let v = 1; v <= 1000; v++) (v % 2 === 0 ? first : second).record(v);
  const q = window.quantiles();
  t.equal(q.samples, 1000);
  for (const [got, exact] of [[q.p50, 500], [q.p95, 950], [q.p99, 990]] as const) {
    t.ok(got! >= exact && got! <= exact * 1.125, `${got} µs for the exact ${exact}`);
  }
});

t.test('samples leave the window after it has rotated past them', async (t) => {
  const sab = allocateSharedLatency();
  const window = new SharedLatencyWindow([sab]);
  const writer = new SharedLatencyWriter(sab);
  for (let i = 0; i < 100; i++) writer.record(5_000);
  window.rotate();
  for (let i = 0; i < 10; i++) writer.record(50);
  t.equal(window.quantiles().samples, 110, 'both batches in the window');
  for (let r = 0; r < 5; r++) window.rotate();
  t.equal(window.quantiles().samples, 10, 'six rotations later, the first batch is out');
  t.equal(window.quantiles().p99, 51, 'and only the later latencies count');
  window.rotate();
  t.equal(window.quantiles().samples, 0, 'then the second');
});

t.test('counts that wrap past 2^32 still give the samples between two readings', async (t) => {
  const sab = allocateSharedLatency();
  const counts = new Uint32Array(sab);
  counts[latencyBucket(300)] = 2 ** 32 - 3;
  const window = new SharedLatencyWindow([sab]);
  const writer = new SharedLatencyWriter(sab);
  for (let i = 0; i < 7; i++) writer.record(300);
  t.equal(counts[latencyBucket(300)], 4, 'the count wrapped');
  t.equal(window.quantiles().samples, 7);
});
