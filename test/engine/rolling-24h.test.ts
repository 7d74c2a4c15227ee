import t from 'tap';
import { MAX_BUCKETS, Rolling24h, WINDOW_SECONDS } from '../../src/engine/rolling-24h';
import { Random } from '../../src/util/random';

/**
 * Rolling24h against a recomputation from the raw trade list: the window is
 * [floor((clock - 24h) / 1s) * 1s, clock], every trade booked at max(its stamp, clock).
 * Checked after trades and at "now" points, many of them exactly at, and 1 µs either side of,
 * the instants where a trade leaves the window and where it turns 24h old.
 */

const SECOND = 1_000_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const EPOCH_2024 = Date.UTC(2024, 0, 1) * 1000;

/** The raw trades, as booked, and a plain scan over the window for every figure. */
class Recomputation {
  readonly ts: number[] = [];
  readonly price: number[] = [];
  readonly size: number[] = [];
  clock = Number.NEGATIVE_INFINITY;

  trade(ts: number, price: number, size: number): void {
    if (ts > this.clock) this.clock = ts;
    this.ts.push(this.clock);
    this.price.push(price);
    this.size.push(size);
  }

  advance(now: number): void {
    if (now > this.clock) this.clock = now;
  }

  windowStart(): number {
    return (Math.floor(this.clock / SECOND) - WINDOW_SECONDS) * SECOND;
  }

  /** Index of the first trade in the window. */
  first(): number {
    const start = this.windowStart();
    let lo = 0;
    let hi = this.ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first difference from `stats`, or null. */
  differs(stats: Rolling24h): string | null {
    const from = this.first();
    const to = this.ts.length;
    let volume = 0;
    let notional = 0;
    let high = 0;
    let low = 0;
    const seconds = new Set<number>();
    for (let k = from; k < to; k++) {
      volume += this.size[k];
      notional += this.price[k] * this.size[k];
      high = k === from ? this.price[k] : Math.max(high, this.price[k]);
      low = k === from ? this.price[k] : Math.min(low, this.price[k]);
      seconds.add(Math.floor(this.ts[k] / SECOND));
    }
    const count = to - from;
    const open = count === 0 ? 0 : this.price[from];
    const last = count === 0 ? 0 : this.price[to - 1];
    const expected: Record<string, number> = {
      volume,
      notional,
      count,
      high,
      low,
      open,
      last,
      vwap: volume === 0 ? 0 : notional / volume,
      changePercent: open === 0 ? 0 : ((last - open) / open) * 100,
      buckets: seconds.size,
      clock: this.clock,
    };
    const actual: Record<string, number> = {
      volume: stats.volume,
      notional: stats.notional,
      count: stats.count,
      high: stats.high,
      low: stats.low,
      open: stats.open,
      last: stats.last,
      vwap: stats.vwap(),
      changePercent: stats.changePercent(),
      buckets: stats.buckets,
      clock: stats.clock,
    };
    for (const key of Object.keys(expected)) {
      if (!Object.is(expected[key], actual[key])) {
        return `${key}: expected ${expected[key]}, got ${actual[key]} (clock ${this.clock}, ${count} trades in window)`;
      }
    }
    return null;
  }
}

/** Counts mismatches and keeps the first, so one bad run yields one readable failure. */
class Checker {
  checks = 0;
  failures = 0;
  first = '';

  check(reference: Recomputation, stats: Rolling24h, where: string): void {
    this.checks++;
    const difference = reference.differs(stats);
    if (difference !== null && this.failures++ === 0) this.first = `${where}: ${difference}`;
  }
}

t.test('an empty window reads zero everywhere', async (t) => {
  const stats = new Rolling24h();
  t.equal(stats.clock, Number.NEGATIVE_INFINITY);
  for (const value of [stats.volume, stats.notional, stats.count, stats.high, stats.low, stats.open, stats.last]) {
    t.equal(value, 0);
  }
  t.equal(stats.vwap(), 0);
  t.equal(stats.changePercent(), 0);
  stats.advance(EPOCH_2024);
  t.equal(stats.count, 0);
  t.equal(stats.windowStart, EPOCH_2024 - DAY);
});

t.test('a trade stays for 24h plus the rest of its second, to the microsecond', async (t) => {
  const stats = new Rolling24h();
  const ts = EPOCH_2024 + 500_000; // half-way into its second
  stats.addTrade(ts, 100, 3);
  stats.addTrade(ts + 100, 110, 1);
  t.equal(stats.volume, 4);
  t.equal(stats.notional, 410);
  t.equal(stats.vwap(), 102.5);
  t.equal(stats.changePercent(), 10);
  t.equal(stats.high, 110);
  t.equal(stats.low, 100);
  const leaves = EPOCH_2024 + DAY + SECOND; // the whole second [EPOCH_2024, +1s) is now over 24h old
  for (const now of [ts + DAY - 1, ts + DAY, ts + DAY + 1, leaves - 1]) {
    stats.advance(now);
    t.equal(stats.count, 2, `still in the window at now = ts + ${now - ts} µs`);
    t.ok(stats.windowStart <= ts);
  }
  stats.advance(leaves);
  t.equal(stats.count, 0, 'gone when its second ends 24h ago');
  t.equal(stats.windowStart, EPOCH_2024 + SECOND);
  t.equal(stats.last, 0, 'last is 0 once the window is empty');
  t.equal(stats.open, 0);
  t.equal(stats.high, 0);
  t.equal(stats.low, 0);
});

t.test('a trade stamped before the clock is booked at the clock; the window never goes back', async (t) => {
  const stats = new Rolling24h();
  stats.addTrade(EPOCH_2024 + 5 * SECOND, 100, 1);
  stats.advance(EPOCH_2024 + 9 * SECOND);
  stats.addTrade(EPOCH_2024, 90, 1); // late: booked at +9s, so it outlives the first trade
  stats.advance(EPOCH_2024 + 3 * SECOND);
  t.equal(stats.clock, EPOCH_2024 + 9 * SECOND, 'advance to an earlier time changes nothing');
  t.equal(stats.count, 2);
  t.equal(stats.buckets, 2, 'the late trade went into the clock second, not its own');
  stats.advance(EPOCH_2024 + DAY + 6 * SECOND);
  t.equal(stats.count, 1);
  t.equal(stats.open, 90);
  t.equal(stats.last, 90);
  stats.advance(EPOCH_2024 + DAY + 10 * SECOND);
  t.equal(stats.count, 0);
});

t.test('high and low follow the window as extremes expire (monotonic deques)', async (t) => {
  const stats = new Rolling24h();
  const prices = [50, 70, 60, 60, 80, 10, 40, 40, 30, 90, 20];
  prices.forEach((price, k) => stats.addTrade(EPOCH_2024 + k * HOUR, price, 1));
  for (let k = 0; k < prices.length; k++) {
    // Past the window's edge for trade k: trades k+1.. remain.
    stats.advance(EPOCH_2024 + k * HOUR + DAY + SECOND);
    const rest = prices.slice(k + 1);
    t.equal(stats.high, rest.length ? Math.max(...rest) : 0, `high after ${k + 1} expired`);
    t.equal(stats.low, rest.length ? Math.min(...rest) : 0, `low after ${k + 1} expired`);
    t.equal(stats.open, rest.length ? rest[0] : 0);
  }
});

/** Gaps between trades, by regime: busy (sub-second), steady (seconds), quiet (minutes to a day). */
function gap(random: Random, regime: number): number {
  const x = random.next();
  if (x < 0.04) return -random.int(3 * SECOND); // out of order: booked at the clock
  if (x < 0.12) return 0; // same microsecond
  switch (regime) {
    case 0:
      return random.int(SECOND);
    case 1:
      return random.int(20 * SECOND);
    default:
      return x < 0.9 ? random.int(2 * HOUR) : 20 * HOUR + random.int(8 * HOUR);
  }
}

t.test('random flows match the recomputation at random instants and at every kind of edge', async (t) => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const random = new Random(seed);
    const stats = new Rolling24h();
    const reference = new Recomputation();
    const checker = new Checker();
    let ts = EPOCH_2024 + random.int(DAY);
    let price = 10_000;
    let regime = 0;
    for (let n = 0; n < 12_000; n++) {
      if (random.next() < 0.001) regime = random.int(3);
      ts += gap(random, regime);
      price = Math.max(1, price + random.int(201) - 100);
      const size = 1 + random.int(10_000);
      stats.addTrade(ts, price, size);
      reference.trade(ts, price, size);
      if (n % 3 === 0) checker.check(reference, stats, `seed ${seed} trade ${n}`);
      const q = random.next();
      if (q < 0.05) {
        // The next instant the oldest trade leaves: its second's end + 24h, and 1 µs either side.
        const first = reference.first();
        if (first < reference.ts.length) {
          const leaves = (Math.floor(reference.ts[first] / SECOND) + WINDOW_SECONDS + 1) * SECOND;
          for (const now of [leaves - 1, leaves, leaves + 1]) {
            stats.advance(now);
            reference.advance(now);
            checker.check(reference, stats, `seed ${seed} trade ${n}, expiry edge ${now - leaves}`);
          }
        }
      } else if (q < 0.08) {
        // The instant the oldest trade turns exactly 24h old, and 1 µs either side.
        const first = reference.first();
        if (first < reference.ts.length) {
          const aged = reference.ts[first] + DAY;
          for (const now of [aged - 1, aged, aged + 1]) {
            stats.advance(now);
            reference.advance(now);
            checker.check(reference, stats, `seed ${seed} trade ${n}, 24h edge ${now - aged}`);
          }
        }
      } else if (q < 0.12) {
        const now = reference.clock + random.int(q < 0.1 ? HOUR : 2 * DAY);
        stats.advance(now);
        reference.advance(now);
        checker.check(reference, stats, `seed ${seed} trade ${n}, advance`);
      }
      ts = Math.max(ts, reference.clock - random.int(2 * SECOND));
    }
    t.equal(checker.failures, 0, checker.first || `seed ${seed}: ${checker.checks} checks agree (ring ${stats.capacity})`);
  }
});

t.test('a trade in every second: 86,401 buckets at most, extremes through a full deque', async (t) => {
  const random = new Random(99);
  const stats = new Rolling24h();
  const reference = new Recomputation();
  const checker = new Checker();
  const start = EPOCH_2024 + 123_456;
  let maxBuckets = 0;
  const seconds = WINDOW_SECONDS + WINDOW_SECONDS / 2;
  for (let s = 0; s < seconds; s++) {
    // Falling for a day (every bucket stays in the max deque), then rising (the min deque).
    const price = s < WINDOW_SECONDS ? 1_000_000 - s : 1_000_000 - WINDOW_SECONDS + 2 * (s - WINDOW_SECONDS);
    const trades = random.next() < 0.1 ? 1 + random.int(4) : 1;
    for (let k = 0; k < trades; k++) {
      const ts = start + s * SECOND + random.int(SECOND / 2);
      const size = 1 + random.int(100);
      stats.addTrade(ts, price + k, size);
      reference.trade(ts, price + k, size);
    }
    maxBuckets = Math.max(maxBuckets, stats.buckets);
    if (s % 997 === 0 || s === WINDOW_SECONDS || s === WINDOW_SECONDS + 1 || s === seconds - 1) {
      checker.check(reference, stats, `second ${s}`);
    }
  }
  t.equal(checker.failures, 0, checker.first || `${checker.checks} checks agree`);
  t.equal(maxBuckets, MAX_BUCKETS, 'the window held every second from floor(now)-86400 to floor(now)');
  t.equal(stats.capacity, 131_072, 'the ring doubled to the first power of two above 86,401');
});

t.test('volume and notional past 2^53 are exact at every trade, and leave no residue once the big trades expire', async (t) => {
  const random = new Random(7);
  const stats = new Rolling24h();
  let volume = 0n;
  let notional = 0n;
  const booked: Array<{ ts: number; size: bigint; notional: bigint }> = [];
  let head = 0;
  const add = (ts: number, price: number, size: number) => {
    stats.addTrade(ts, price, size);
    const product = BigInt(price) * BigInt(size);
    booked.push({ ts, size: BigInt(size), notional: product });
    volume += BigInt(size);
    notional += product;
  };
  const expireTo = (now: number) => {
    const start = (Math.floor(now / SECOND) - WINDOW_SECONDS) * SECOND;
    while (head < booked.length && booked[head].ts < start) {
      volume -= booked[head].size;
      notional -= booked[head++].notional;
    }
  };
  let failures = 0;
  let first = '';
  const check = (ts: number) => {
    const gotVolume = BigInt(stats.volume) + BigInt(stats.volumeRest);
    const gotNotional = BigInt(stats.notional) + BigInt(stats.notionalRest);
    if ((gotVolume !== volume || gotNotional !== notional) && failures++ === 0) {
      first = `at +${(ts - EPOCH_2024) / SECOND}s: expected ${volume} / ${notional}, got ${gotVolume} / ${gotNotional}`;
    }
  };
  let ts = EPOCH_2024;
  // An hour of huge trades, four a second: sizes near 2^53 (so the volume passes 2^53 within a
  // second), odd prices (so every product, about 2^86, rounds in float64 and needs its error);
  // the notional ends near 2^100, within the 2^104 the pairs are exact to.
  for (let n = 0; n < 3600; n++, ts += SECOND) {
    for (let k = 0; k < 4; k++) {
      add(ts + k, 2 ** 33 + 2 * random.int(2 ** 20) + 1, 2 ** 53 - 1 - 2 * random.int(2 ** 20));
      check(ts + k);
    }
  }
  t.ok(volume > 2n ** 60n, 'the volume went far past 2^53');
  // Then two days of ordinary ones.
  for (let n = 0; n < 2 * WINDOW_SECONDS; n += 7, ts += 7 * SECOND) {
    add(ts, 1000 + random.int(1000), 1 + random.int(100));
    expireTo(ts);
    check(ts);
  }
  t.equal(failures, 0, first || 'volume and notional equal the exact sums at every trade');
  t.ok(notional < 2n ** 53n && volume < 2n ** 53n, 'the check ended with the big trades gone');
  t.equal(stats.volumeRest, 0, 'no residue in the volume');
  t.equal(stats.notionalRest + stats.notional, Number(notional), 'no residue in the notional');
});
