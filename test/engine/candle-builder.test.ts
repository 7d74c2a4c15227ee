import t from 'tap';
import { basename } from 'node:path';
import { CandleBuilder, CandleListener, CandleSink } from '../../src/engine/candle-builder';
import { INTERVAL_COUNT, INTERVALS, intervalIndex, intervalStart } from '../../src/model/intervals';
import { Rolling24h } from '../../src/engine/rolling-24h';
import {
  LOBSTER_EXECUTE,
  LOBSTER_HIDDEN_EXECUTE,
  LobsterMessageReader,
  findLobsterSamples,
  lobsterDataDir,
  lobsterFiles,
} from '../../src/source/lobster-files';
import { Random } from '../../src/util/random';

/**
 * CandleBuilder against a recomputation from the raw flow of trades and ticks: candles are the
 * trades grouped by floor(ts / length) * length, each trade booked at the running maximum of
 * all times seen; a candle must be emitted final exactly once, at the first event whose time
 * reaches its end, and every trade must be followed by the candle-so-far of every interval.
 * Closed candles are not kept by the builder (the front thread's RecentCandles keeps them, see
 * test/gateway/recent-candles.test.ts), so the listener's finals are the whole record.
 */

const SECOND = 1_000_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const EPOCH_2024 = Date.UTC(2024, 0, 1) * 1000;

const TRADE = 0;
const TICK = 1;

/** Trades and ticks in arrival order. */
interface Flow {
  kind: number[];
  time: number[];
  price: number[];
  size: number[];
}

function emptyFlow(): Flow {
  return { kind: [], time: [], price: [], size: [] };
}

// A candle as a row: start, open, high, low, close, volume, notional, count.
type Row = number[];

class Log implements CandleListener {
  event = 0;
  /** [event, interval, final (1/0), ...row] per call. */
  readonly calls: number[][] = [];
  /** When set, every call also reads current() of its interval from inside the callback. */
  builder: CandleBuilder | null = null;
  /** Per call, when probing: the row current() pushed during it, or null when it said none. */
  readonly during: Array<Row | null> = [];
  onCandle(
    i: number,
    start: number,
    o: number,
    h: number,
    l: number,
    c: number,
    v: number,
    vr: number,
    n: number,
    nr: number,
    k: number,
    final: boolean,
  ) {
    this.calls.push([this.event, i, final ? 1 : 0, start, o, h, l, c, v + vr, n + nr, k]);
    if (this.builder === null) return;
    const rows = new Rows();
    this.during.push(this.builder.current(i, rows) ? rows.rows[0] : null);
  }
}

class Rows implements CandleSink {
  readonly rows: Row[] = [];
  // The flows here stay below 2^53, where the rests are 0; the exactness past it has its own test.
  push(start: number, o: number, h: number, l: number, c: number, v: number, vr: number, n: number, nr: number, k: number) {
    this.rows.push([start, o, h, l, c, v + vr, n + nr, k]);
  }
}

/** What the builder must say, derived from the flow alone. */
class Expected {
  /** The clock after each event. */
  readonly clocks: number[] = [];
  /** Per trade: its event. */
  readonly tradeEvent: number[] = [];
  /** Per event: the last trade at or before it (-1 before any). */
  readonly lastTrade: number[] = [];
  /** Per interval, per trade: the candle holding that trade, as of that trade. */
  readonly soFar: Row[][] = [];
  /** Per interval: every candle's final row and the event that must close it (-1: still open). */
  readonly finals: Array<Array<{ row: Row; event: number }>> = [];

  constructor(flow: Flow) {
    let clock = Number.NEGATIVE_INFINITY;
    const times: number[] = [];
    for (let e = 0; e < flow.kind.length; e++) {
      clock = Math.max(clock, flow.time[e]);
      this.clocks.push(clock);
      if (flow.kind[e] === TRADE) {
        this.tradeEvent.push(e);
        times.push(clock);
      }
      this.lastTrade.push(this.tradeEvent.length - 1);
    }
    for (let i = 0; i < INTERVAL_COUNT; i++) {
      const length = INTERVALS[i].micros;
      const rows: Row[] = [];
      const finals: Array<{ row: Row; event: number }> = [];
      for (let n = 0; n < times.length; n++) {
        const e = this.tradeEvent[n];
        const price = flow.price[e];
        const size = flow.size[e];
        const start = Math.floor(times[n] / length) * length;
        const previous = n > 0 ? rows[n - 1] : null;
        if (previous !== null && previous[0] === start) {
          rows.push([
            start,
            previous[1],
            Math.max(previous[2], price),
            Math.min(previous[3], price),
            price,
            previous[5] + size,
            previous[6] + price * size,
            previous[7] + 1,
          ]);
        } else {
          if (previous !== null) finals.push({ row: previous, event: this.firstReaching(previous[0] + length) });
          rows.push([start, price, price, price, price, size, price * size, 1]);
        }
      }
      if (rows.length > 0) {
        const open = rows[rows.length - 1];
        finals.push({ row: open, event: this.firstReaching(open[0] + length) });
      }
      this.soFar.push(rows);
      this.finals.push(finals);
    }
  }

  /** The first event whose clock is at or after `time`, or -1. */
  firstReaching(time: number): number {
    let lo = 0;
    let hi = this.clocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.clocks[mid] < time) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.clocks.length ? -1 : lo;
  }

  /** Interval i's candle in progress after event e, or null. */
  currentAfter(i: number, e: number): Row | null {
    const n = this.lastTrade[e];
    if (n < 0) return null;
    const row = this.soFar[i][n];
    return row[0] + INTERVALS[i].micros > this.clocks[e] ? row : null;
  }

  /** Interval i's final rows emitted by the end of event e. */
  finalsBy(i: number, e: number): Row[] {
    return this.finals[i].filter((f) => f.event >= 0 && f.event <= e).map((f) => f.row);
  }
}

class Failures {
  count = 0;
  first = '';
  checks = 0;
  expect(ok: boolean, what: () => string): void {
    this.checks++;
    if (!ok && this.count++ === 0) this.first = what();
  }
}

const same = (a: Row | null, b: Row | null) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Replays `flow` into a builder and checks every listener call, and what current() says from
 * inside each call; also probes current() after a random `probeShare` of the events.
 */
function replay(flow: Flow, random: Random, probeShare = 0.02): Failures {
  const expected = new Expected(flow);
  const log = new Log();
  const builder = new CandleBuilder(log);
  log.builder = builder;
  const failures = new Failures();
  for (let e = 0; e < flow.kind.length; e++) {
    log.event = e;
    if (flow.kind[e] === TRADE) builder.onTrade(flow.time[e], flow.price[e], flow.size[e]);
    else builder.tick(flow.time[e]);
    if (random.next() >= probeShare) continue;
    const i = random.int(INTERVAL_COUNT);
    const now = new Rows();
    const has = builder.current(i, now);
    const wanted = expected.currentAfter(i, e);
    failures.expect(has === (wanted !== null) && same(now.rows[0] ?? null, wanted), () => {
      const call = `event ${e} current(${INTERVALS[i].name})`;
      return `${call}: expected ${JSON.stringify(wanted)}, got ${JSON.stringify(now.rows)}`;
    });
  }

  // Inside a final call the candle is already gone from current(); inside an in-progress call
  // current() is that very candle. A final repeats the last in-progress figures of its candle.
  const lastProgress: Array<Row | null> = new Array(INTERVAL_COUNT).fill(null);
  for (let k = 0; k < log.calls.length; k++) {
    const call = log.calls[k];
    const i = call[1];
    const row = call.slice(3);
    const seen = log.during[k];
    if (call[2] === 1) {
      failures.expect(seen === null, () => {
        return `call ${k} ${JSON.stringify(call)}: current() during the final gave ${JSON.stringify(seen)}`;
      });
      failures.expect(same(row, lastProgress[i]), () => {
        const previous = JSON.stringify(lastProgress[i]);
        return `call ${k} final ${JSON.stringify(row)} differs from the last in-progress ${previous}`;
      });
      lastProgress[i] = null;
    } else {
      failures.expect(same(seen, row), () => {
        return `call ${k} ${JSON.stringify(call)}: current() during it gave ${JSON.stringify(seen)}`;
      });
      lastProgress[i] = row;
    }
  }

  // Calls come in (event, interval, final before the candle-so-far) order, never twice.
  for (let k = 1; k < log.calls.length; k++) {
    const [e0, i0, f0] = log.calls[k - 1];
    const [e1, i1, f1] = log.calls[k];
    const ordered = e0 < e1 || (e0 === e1 && (i0 < i1 || (i0 === i1 && f0 === 1 && f1 === 0)));
    failures.expect(ordered, () => {
      return `call ${k} out of order: ${JSON.stringify(log.calls[k - 1])} then ${JSON.stringify(log.calls[k])}`;
    });
  }
  for (let i = 0; i < INTERVAL_COUNT; i++) {
    const name = INTERVALS[i].name;
    const finals = log.calls.filter((c) => c[1] === i && c[2] === 1);
    const wantFinals = expected.finals[i].filter((f) => f.event >= 0);
    failures.expect(finals.length === wantFinals.length, () => {
      return `${name}: ${finals.length} finals, expected ${wantFinals.length}`;
    });
    for (let k = 0; k < Math.min(finals.length, wantFinals.length); k++) {
      const got = finals[k];
      const want = wantFinals[k];
      failures.expect(got[0] === want.event && same(got.slice(3), want.row), () => {
        const wanted = `${JSON.stringify(want.row)} at event ${want.event}`;
        return `${name} final ${k}: expected ${wanted}, got ${JSON.stringify(got.slice(3))} at event ${got[0]}`;
      });
    }
    const progress = log.calls.filter((c) => c[1] === i && c[2] === 0);
    const rows = expected.soFar[i];
    failures.expect(progress.length === rows.length, () => {
      return `${name}: ${progress.length} in-progress calls for ${rows.length} trades`;
    });
    for (let n = 0; n < Math.min(progress.length, rows.length); n++) {
      const got = progress[n];
      failures.expect(got[0] === expected.tradeEvent[n] && same(got.slice(3), rows[n]), () => {
        const actual = `${JSON.stringify(got.slice(3))} at event ${got[0]}`;
        return `${name} after trade ${n}: expected ${JSON.stringify(rows[n])}, got ${actual}`;
      });
    }
  }
  return failures;
}

t.test('intervals: the table, lookup by name, epoch-aligned UTC starts', async (t) => {
  t.same(
    INTERVALS.map((x) => [x.name, x.micros]),
    [
      ['1m', MINUTE],
      ['5m', 5 * MINUTE],
      ['15m', 15 * MINUTE],
      ['1h', HOUR],
      ['4h', 4 * HOUR],
      ['1d', DAY],
    ],
  );
  t.equal(INTERVAL_COUNT, 6);
  t.equal(intervalIndex('1m'), 0);
  t.equal(intervalIndex('4h'), 4);
  t.equal(intervalIndex('1d'), 5);
  t.equal(intervalIndex('1H'), -1);
  t.equal(intervalIndex('2m'), -1);
  t.ok(Object.isFrozen(INTERVALS) && Object.isFrozen(INTERVALS[0]));
  const ts = Date.UTC(2024, 2, 10, 13, 47, 31, 250) * 1000 + 17; // 13:47:31.250017 UTC
  const at = (i: number) => new Date(intervalStart(ts, i) / 1000).toISOString();
  t.equal(at(0), '2024-03-10T13:47:00.000Z');
  t.equal(at(1), '2024-03-10T13:45:00.000Z');
  t.equal(at(2), '2024-03-10T13:45:00.000Z');
  t.equal(at(3), '2024-03-10T13:00:00.000Z');
  t.equal(at(4), '2024-03-10T12:00:00.000Z');
  t.equal(at(5), '2024-03-10T00:00:00.000Z');
  const boundary = Date.UTC(2024, 2, 10) * 1000; // midnight: a boundary of every interval
  for (let i = 0; i < INTERVAL_COUNT; i++) {
    t.equal(intervalStart(boundary, i), boundary, `${INTERVALS[i].name}: a boundary starts its own interval`);
    const previous = boundary - INTERVALS[i].micros;
    t.equal(intervalStart(boundary - 1, i), previous, `${INTERVALS[i].name}: 1 µs before is the previous`);
  }
  t.equal(intervalStart(-1, 0), -MINUTE, 'before 1970 rounds down too');
  t.equal(intervalStart(-MINUTE, 0), -MINUTE);
});

t.test('a trade exactly on the boundary opens the next candle; the final comes first', async (t) => {
  const log = new Log();
  const builder = new CandleBuilder(log);
  const m = EPOCH_2024 + 10 * MINUTE;
  builder.onTrade(m, 100, 1);
  builder.onTrade(m + MINUTE - 1, 105, 2);
  t.equal(log.calls.filter((c) => c[2] === 1).length, 0, 'nothing final inside the minute');
  t.same(log.calls.slice(-INTERVAL_COUNT)[0].slice(1), [0, 0, m, 100, 105, 100, 105, 3, 310, 2]);
  log.calls.length = 0;
  builder.onTrade(m + MINUTE, 99, 5);
  t.same(
    log.calls.map((c) => c.slice(1, 4)),
    [
      [0, 1, m],
      [0, 0, m + MINUTE],
      [1, 0, intervalStart(m, 1)],
      [2, 0, intervalStart(m, 2)],
      [3, 0, intervalStart(m, 3)],
      [4, 0, intervalStart(m, 4)],
      [5, 0, intervalStart(m, 5)],
    ],
    'only the 1m candle closed, before the new one was reported',
  );
  t.same(log.calls[0].slice(3), [m, 100, 105, 100, 105, 3, 310, 2]);
  t.same(log.calls[1].slice(3), [m + MINUTE, 99, 99, 99, 99, 5, 495, 1]);
});

t.test('ticks close candles once their interval has ended, exactly once', async (t) => {
  const log = new Log();
  const builder = new CandleBuilder(log);
  const m = EPOCH_2024 + 7 * MINUTE;
  builder.onTrade(m + 5 * SECOND, 100, 1);
  log.calls.length = 0;
  builder.tick(m + MINUTE - 1);
  t.equal(log.calls.length, 0, 'not yet at start + length - 1');
  builder.tick(m + MINUTE);
  t.same(log.calls.map((c) => c.slice(1, 4)), [[0, 1, m]], 'the 1m candle closes at start + length');
  builder.tick(m + MINUTE + 1);
  builder.tick(m + 2 * MINUTE);
  t.equal(log.calls.length, 1, 'and is never final again');
  t.notOk(builder.current(0, new Rows()), 'no 1m candle in progress');
  t.ok(builder.current(5, new Rows()), 'the day is still open');
  // A trade stamped inside the closed minute is booked at the clock, in a later candle.
  log.calls.length = 0;
  builder.onTrade(m + 30 * SECOND, 101, 1);
  t.equal(log.calls[0][3], m + 2 * MINUTE, 'late trade went to the minute of the clock');
  t.equal(builder.clock, m + 2 * MINUTE);
  builder.tick(EPOCH_2024 + DAY);
  t.same(
    log.calls.filter((c) => c[2] === 1).map((c) => [c[1], c[3]]),
    [
      [0, m + 2 * MINUTE],
      [1, intervalStart(m, 1)],
      [2, intervalStart(m, 2)],
      [3, intervalStart(m, 3)],
      [4, intervalStart(m, 4)],
      [5, EPOCH_2024],
    ],
    'a tick a day later closes every interval, in interval order',
  );
});

t.test('empty intervals produce no candle', async (t) => {
  const log = new Log();
  const builder = new CandleBuilder(log);
  const m = EPOCH_2024;
  builder.onTrade(m + 1, 10, 1);
  builder.onTrade(m + 5 * MINUTE + 1, 11, 1); // minutes 1-4 had no trades
  builder.onTrade(m + 9 * HOUR, 12, 1); // hours 1-8 had no trades
  builder.tick(m + 2 * DAY);
  const finals = (i: number) => log.calls.filter((c) => c[1] === i && c[2] === 1).map((c) => (c[3] - m) / MINUTE);
  t.same(finals(0), [0, 5, 540]);
  t.same(finals(1), [0, 5, 540]);
  t.same(finals(2), [0, 540]);
  t.same(finals(3), [0, 540]);
  t.same(finals(4), [0, 480]);
  t.same(finals(5), [0]);
  t.notOk(builder.current(5, new Rows()), 'and nothing is left in progress');
});

t.test('follow: candles in progress only for flagged intervals, finals for all, same figures', async (t) => {
  const follow = new Uint8Array(INTERVAL_COUNT);
  const wanted: unknown[][] = [];
  const heard: unknown[][] = [];
  // The builder without `follow` hears everything; what it hears for a flagged interval, or final,
  // is what the one with `follow` must hear.
  const every = new CandleBuilder({
    onCandle: (...call) => {
      if (call[11] || follow[call[0]] !== 0) wanted.push(call);
    },
  });
  const followed = new CandleBuilder({ onCandle: (...call) => heard.push(call) }, follow);
  const m = EPOCH_2024 + 3 * MINUTE;
  const trades = [[m + 1, 100], [m + 2, 90], [m + MINUTE, 95], [m + 2 * MINUTE, 97], [m + 3 * MINUTE, 99]];
  for (let k = 0; k < trades.length; k++) {
    follow.fill(0);
    follow[k % INTERVAL_COUNT] = 1;
    follow[1] = k % 2;
    every.onTrade(trades[k][0], trades[k][1], 1);
    followed.onTrade(trades[k][0], trades[k][1], 1);
  }
  t.same(heard, wanted, 'the unflagged in-progress calls are left out, nothing else');
  t.ok(heard.some((call) => call[11] === true), 'finals go out unflagged');
  t.ok(heard.length < INTERVAL_COUNT * trades.length, 'and some in-progress calls were left out');
});

t.test('current() reads the candle in progress; bad intervals are coded errors', async (t) => {
  const builder = new CandleBuilder({ onCandle() {} });
  const read = (i: number) => {
    const rows = new Rows();
    return builder.current(i, rows) ? rows.rows : null;
  };
  for (let i = 0; i < INTERVAL_COUNT; i++) t.equal(read(i), null, `${INTERVALS[i].name}: nothing before a trade`);
  const m = EPOCH_2024 + 3 * MINUTE;
  builder.onTrade(m + 1, 100, 2);
  builder.onTrade(m + 2, 90, 1);
  builder.onTrade(m + 3, 95, 3);
  t.same(read(0), [[m, 100, 100, 90, 95, 6, 575, 3]]);
  t.same(read(5), [[EPOCH_2024, 100, 100, 90, 95, 6, 575, 3]]);
  builder.tick(m + MINUTE);
  t.equal(read(0), null, 'the closed minute is no longer current');
  t.same(read(1), [[intervalStart(m, 1), 100, 100, 90, 95, 6, 575, 3]], 'the 5m candle still is');
  for (const bad of [-1, INTERVAL_COUNT, 1.5, NaN]) {
    t.throws(() => builder.current(bad, new Rows()), { code: 'INVALID_PARAMETER' }, `interval ${bad}`);
  }
});

/** A flow that keeps landing on, just before and just after boundaries, with gaps and ticks. */
function randomFlow(random: Random, events: number): Flow {
  const flow = emptyFlow();
  let clock = EPOCH_2024 + random.int(DAY);
  let price = 50_000;
  const nextBoundary = () => {
    const length = INTERVALS[random.int(INTERVAL_COUNT)].micros;
    return Math.floor(clock / length) * length + length;
  };
  for (let e = 0; e < events; e++) {
    const x = random.next();
    let time: number;
    if (x < 0.1) time = nextBoundary();
    else if (x < 0.15) time = nextBoundary() - 1;
    else if (x < 0.2) time = clock;
    else if (x < 0.5) time = clock + random.int(SECOND);
    else if (x < 0.7) time = clock + random.int(MINUTE);
    else if (x < 0.85) time = clock + MINUTE + random.int(20 * MINUTE);
    else if (x < 0.93) time = clock + HOUR + random.int(30 * HOUR);
    else time = clock - random.int(10 * SECOND); // late: booked at the clock
    const tick = random.next() < 0.2;
    flow.kind.push(tick ? TICK : TRADE);
    flow.time.push(time);
    price = Math.max(1, price + random.int(21) - 10);
    flow.price.push(tick ? 0 : price);
    flow.size.push(tick ? 0 : 1 + random.int(1000));
    clock = Math.max(clock, time);
  }
  return flow;
}

t.test('random flows of trades and ticks match the recomputation', async (t) => {
  for (const seed of [11, 12, 13, 14]) {
    const random = new Random(seed);
    const flow = randomFlow(random, 15_000);
    const failures = replay(flow, random);
    t.equal(failures.count, 0, failures.first || `seed ${seed}: ${failures.checks} checks agree`);
  }
});

const dir = lobsterDataDir();
const samples = findLobsterSamples(dir);

if (samples.length === 0) {
  const why = `LOBSTER samples not found in ${dir} (set BOOKCAST_LOBSTER_DIR to the folder holding them)`;
  if (process.env.CI === 'true') t.fail(`${why}; CI=true requires them`);
  else t.test('LOBSTER samples', async (t) => t.plan(0, why));
} else {
  for (const messagePath of samples) {
    t.test(`${basename(messagePath)}: candles and 24h stats from the executions`, async (t) => {
      const files = lobsterFiles(messagePath);
      const reader = new LobsterMessageReader(files.messagePath, files.midnightMicros);
      // Executions (types 4 and 5) are the trades; every other message ticks the clock, as the
      // owner's periodic tick would.
      const flow = emptyFlow();
      const stats = new Rolling24h();
      let volume = 0;
      let notional = 0;
      let high = -Infinity;
      let low = Infinity;
      let open = 0;
      let last = 0;
      while (reader.next()) {
        const trade = reader.type === LOBSTER_EXECUTE || reader.type === LOBSTER_HIDDEN_EXECUTE;
        flow.kind.push(trade ? TRADE : TICK);
        flow.time.push(reader.time);
        flow.price.push(trade ? reader.price : 0);
        flow.size.push(trade ? reader.size : 0);
        if (!trade) continue;
        stats.addTrade(reader.time, reader.price, reader.size);
        if (volume === 0) open = reader.price;
        volume += reader.size;
        notional += reader.price * reader.size;
        high = Math.max(high, reader.price);
        low = Math.min(low, reader.price);
        last = reader.price;
      }
      const trades = flow.kind.filter((k) => k === TRADE).length;
      t.ok(trades > 0, `${trades} executions in ${flow.kind.length} messages`);
      // A final tick after the session closes every candle.
      flow.kind.push(TICK);
      flow.time.push(files.midnightMicros + 2 * DAY);
      flow.price.push(0);
      flow.size.push(0);
      const failures = replay(flow, new Random(trades), 0.001);
      t.equal(failures.count, 0, failures.first || `${failures.checks} checks agree`);

      const expected = new Expected(flow);
      const minutes = expected.finals[0].length;
      t.ok(minutes > 0 && minutes <= 391, `${minutes} one-minute candles in the session`);
      t.ok(
        expected.finals.every((list) => list.every((f) => f.event >= 0)),
        'the closing tick closed every candle of every interval',
      );
      const log = new Log();
      const builder = new CandleBuilder(log);
      for (let e = 0; e < flow.kind.length; e++) {
        if (flow.kind[e] === TRADE) builder.onTrade(flow.time[e], flow.price[e], flow.size[e]);
        else builder.tick(flow.time[e]);
      }
      const days = log.calls.filter((c) => c[1] === 5 && c[2] === 1).map((c) => c.slice(4));
      t.same(days, [[open, high, low, last, volume, notional, trades]], 'one final 1d candle: the whole session');

      t.same(
        [stats.volume, stats.notional, stats.count, stats.high, stats.low, stats.open, stats.last],
        [volume, notional, trades, high, low, open, last],
        'the 24h window holds the whole session',
      );
      t.equal(stats.vwap(), notional / volume);
    });
  }
}

t.test('candle volume and notional past 2^53 are exact to the unit', async (t) => {
  const random = new Random(53);
  const finals: bigint[][] = [];
  let current: bigint[] = [];
  const builder = new CandleBuilder({
    onCandle(interval, _start, _o, _h, _l, _c, volume, volumeRest, notional, notionalRest, _count, final) {
      if (interval !== 0) return;
      current = [BigInt(volume) + BigInt(volumeRest), BigInt(notional) + BigInt(notionalRest)];
      if (final) finals.push(current);
    },
  });
  const expected: bigint[][] = [];
  let volume = 0n;
  let notional = 0n;
  let ts = EPOCH_2024;
  for (let minute = 0; minute < 3; minute++) {
    volume = 0n;
    notional = 0n;
    // 1,000 trades of sizes near 2^53 at odd prices: every sum and product rounds in float64.
    for (let n = 0; n < 1000; n++) {
      const price = 2 ** 40 + 2 * random.int(2 ** 20) + 1;
      const size = 2 ** 53 - 1 - 2 * random.int(2 ** 20);
      builder.onTrade(ts + n, price, size);
      volume += BigInt(size);
      notional += BigInt(price) * BigInt(size);
      if (n === 999) t.same(current, [volume, notional], `minute ${minute}: the candle in progress is exact`);
    }
    expected.push([volume, notional]);
    ts += MINUTE;
  }
  builder.tick(ts);
  t.same(finals, expected, 'every closed 1m candle is exact');
  const sink = new Rows();
  builder.onTrade(ts, 3, 2 ** 53 - 1);
  builder.onTrade(ts + 1, 3, 2 ** 53 - 1);
  builder.current(0, sink);
  t.equal(BigInt(sink.rows[0][5]), 2n * (2n ** 53n - 1n), 'current() hands out the exact volume');
});
