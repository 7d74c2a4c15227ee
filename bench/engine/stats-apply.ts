import { PerformanceObserver, performance } from 'node:perf_hooks';
import { CandleBuilder, CandleListener } from '../../src/engine/candle-builder';
import { Rolling24h } from '../../src/engine/rolling-24h';
import { Random } from '../../src/util/random';
import { runStandalone } from '../standalone';

/**
 * StatsApply: trades/s through the per-symbol market statistics a book worker keeps: the
 * rolling 24h window (Rolling24h) and the six candle intervals (CandleBuilder, no-op
 * listener, so the six in-progress calls per trade are priced but do nothing), alone and
 * together with a tick every 1,000 trades as an owner's periodic tick would.
 * Two recorded flows: "busy", 10,000 trades/s (most trades land in an existing second bucket,
 * nothing expires), and "quiet", one trade every 2 s on average (about 35,000 live buckets,
 * a bucket expires on nearly every trade). The flows are replayed back to back, shifted in
 * time, so the clock keeps moving forward.
 * Garbage collections during the timed runs are counted. The classes allocate nothing, but V8
 * hands a double outside the small-integer range (2^31) to a call it does not inline as a
 * 16-byte heap number, so a microsecond timestamp costs the caller one short-lived box per trade
 * (measured with a fixed young generation: 16 B/trade for stats, candles or both, since one box
 * serves both calls; 0 B/trade when the same flow carries timestamps below 2^31). Those boxes
 * are what the scavenges counted here collect.
 */

const TRADES = 1 << 20;
const START = Date.UTC(2024, 0, 1) * 1000;

/** ts, price, size triples with exponential gaps of `meanGapMicros` and a random-walk price. */
function recordFlow(meanGapMicros: number, seed: number): Float64Array {
  const random = new Random(seed);
  const flow = new Float64Array(TRADES * 3);
  let ts = START;
  let price = 670_000;
  for (let n = 0; n < TRADES; n++) {
    ts += Math.floor(random.exponential(meanGapMicros));
    price = Math.max(1, price + random.int(11) - 5);
    flow[3 * n] = ts;
    flow[3 * n + 1] = price;
    flow[3 * n + 2] = 1_000 * (1 + random.int(50));
  }
  return flow;
}

class NoopListener implements CandleListener {
  calls = 0;
  onCandle(): void {
    this.calls++;
  }
}

const STATS = 1;
const CANDLES = 2;
const TICK_EVERY = 1000;

function replay(flow: Float64Array, shift: number, what: number, stats: Rolling24h, candles: CandleBuilder): void {
  for (let at = 0, n = 0; at < flow.length; at += 3, n++) {
    const ts = flow[at] + shift;
    if ((what & STATS) !== 0) stats.addTrade(ts, flow[at + 1], flow[at + 2]);
    if ((what & CANDLES) !== 0) candles.onTrade(ts, flow[at + 1], flow[at + 2]);
    if (what === (STATS | CANDLES) && n % TICK_EVERY === 0) {
      stats.advance(ts);
      candles.tick(ts);
    }
  }
}

interface Rate {
  tradesPerSecond: number;
  nsPerTrade: number;
  /** Per trade in CPU time of this process: steadier than wall time on a shared machine. */
  cpuNsPerTrade: number;
  garbageCollections: number;
}

async function measure(flow: Float64Array, what: number, seconds: number): Promise<Rate> {
  const stats = new Rolling24h();
  const candles = new CandleBuilder(new NoopListener());
  const span = flow[flow.length - 3] - flow[0] + 1_000_000;
  let replays = 0;
  // Warm-up: compile, and grow the bucket ring to the flow's pace.
  replay(flow, span * replays++, what, stats, candles);
  replay(flow, span * replays++, what, stats, candles);
  let collections = 0;
  const observer = new PerformanceObserver((list) => {
    collections += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  const timed = replays;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let now = start;
  do {
    replay(flow, span * replays++, what, stats, candles);
    now = performance.now();
  } while (now < deadline);
  const cpu = process.cpuUsage(cpuStart);
  // gc entries are delivered asynchronously, later than the next setImmediate.
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  const trades = (replays - timed) * TRADES;
  const perTrade = ((now - start) * 1e6) / trades;
  return {
    tradesPerSecond: Math.round(1e9 / perTrade),
    nsPerTrade: Math.round(perTrade * 10) / 10,
    cpuNsPerTrade: Math.round((((cpu.user + cpu.system) * 1e3) / trades) * 10) / 10,
    garbageCollections: collections,
  };
}

export async function run(opts: { seconds: number }): Promise<object> {
  const busy = recordFlow(100, 1);
  const quiet = recordFlow(2_000_000, 2);
  const share = opts.seconds / 6;
  const probe = new Rolling24h();
  for (let at = 0; at < quiet.length; at += 3) probe.addTrade(quiet[at], quiet[at + 1], quiet[at + 2]);
  return {
    name: 'StatsApply',
    trades: TRADES,
    busy: {
      meanGapMicros: 100,
      rollingStats: await measure(busy, STATS, share),
      candleBuilder: await measure(busy, CANDLES, share),
      both: await measure(busy, STATS | CANDLES, share),
    },
    quiet: {
      meanGapMicros: 2_000_000,
      liveBuckets: probe.buckets,
      ringCapacity: probe.capacity,
      rollingStats: await measure(quiet, STATS, share),
      candleBuilder: await measure(quiet, CANDLES, share),
      both: await measure(quiet, STATS | CANDLES, share),
    },
  };
}

if (require.main === module) runStandalone(run, 12);
