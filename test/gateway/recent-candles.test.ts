import t from 'tap';
import { INTERVAL_COUNT } from '../../src/model/intervals';
import { CANDLE_HISTORY, CandleRow, RecentCandles } from '../../src/gateway/recent-candles';
import { Random } from '../../src/util/random';

/**
 * RecentCandles against plain lists of every candle recorded per (symbol, interval): range() must
 * give the ones among the last CANDLE_HISTORY with from <= start <= to, oldest first, and only
 * the newest `limit` of them when more qualify.
 */

const MINUTE = 60_000_000;
const EPOCH_2024 = Date.UTC(2024, 0, 1) * 1000;

/** A candle whose every figure is derived from (symbol, interval, n), so a mix-up shows. */
function candle(symbol: number, interval: number, n: number): CandleRow {
  const base = 1000 * symbol + 100 * interval + n;
  return {
    start: EPOCH_2024 + n * MINUTE,
    open: base + 0.25,
    high: base + 0.5,
    low: base,
    close: base + 0.125,
    volume: 10 + n,
    volumeRest: n % 3,
    notional: (10 + n) * (base + 0.3),
    notionalRest: -(n % 5),
    count: 1 + (n % 17),
  };
}

function record(store: RecentCandles, c: CandleRow, symbol: number, interval: number): void {
  store.record(symbol, interval, c.start, c.open, c.high, c.low, c.close, c.volume, c.volumeRest, c.notional, c.notionalRest, c.count);
}

/** What range() must return, from the list of every candle recorded for one key. */
function expectedRange(all: CandleRow[], from: number, to: number, limit: number): CandleRow[] {
  const kept = all.slice(-CANDLE_HISTORY).filter((c) => c.start >= from && c.start <= to);
  return limit > 0 ? kept.slice(-limit) : [];
}

const minutes = (rows: CandleRow[]) => rows.map((c) => (c.start - EPOCH_2024) / MINUTE);
const at = (n: number) => EPOCH_2024 + n * MINUTE;

t.test('CANDLE_HISTORY', async (t) => {
  t.equal(CANDLE_HISTORY, 1000);
});

t.test('an empty store answers nothing', async (t) => {
  const store = new RecentCandles(2);
  t.same(store.range(0, 0, -Infinity, Infinity, 10), []);
  t.same(store.range(1, INTERVAL_COUNT - 1, -Infinity, Infinity, 10), []);
});

t.test('range: inclusive ends, oldest first, the newest limit', async (t) => {
  const store = new RecentCandles(1);
  const all = Array.from({ length: 10 }, (_, n) => candle(0, 0, n));
  for (const c of all) record(store, c, 0, 0);
  t.same(store.range(0, 0, -Infinity, Infinity, 100), all, 'every figure comes back, oldest first');
  t.same(minutes(store.range(0, 0, at(3), at(6), 100)), [3, 4, 5, 6], 'both ends are inclusive');
  t.same(minutes(store.range(0, 0, at(3) + 1, at(6) - 1, 100)), [4, 5]);
  t.same(minutes(store.range(0, 0, at(3), at(6), 2)), [5, 6], 'the limit keeps the newest');
  t.same(minutes(store.range(0, 0, at(4), at(4), 5)), [4], 'from = to is one start');
  t.same(minutes(store.range(0, 0, at(4) + 1, at(5) - 1, 5)), [], 'nothing between two starts');
  t.same(minutes(store.range(0, 0, at(6), at(3), 5)), [], 'from after to');
  t.same(minutes(store.range(0, 0, at(10), Infinity, 5)), [], 'after the newest');
  t.same(minutes(store.range(0, 0, -Infinity, at(0) - 1, 5)), [], 'before the oldest');
  t.same(minutes(store.range(0, 0, -Infinity, Infinity, 0)), [], 'limit 0');
  t.same(minutes(store.range(0, 0, -Infinity, Infinity, 1)), [9]);
});

t.test('only the last CANDLE_HISTORY candles are kept, across wrap-around', async (t) => {
  const store = new RecentCandles(1);
  const total = 2 * CANDLE_HISTORY + 345;
  const all = Array.from({ length: total }, (_, n) => candle(0, 3, n));
  for (const c of all) record(store, c, 0, 3);
  const everything = store.range(0, 3, -Infinity, Infinity, CANDLE_HISTORY);
  t.equal(everything.length, CANDLE_HISTORY);
  t.same(everything, all.slice(-CANDLE_HISTORY), 'the newest CANDLE_HISTORY, oldest first, intact');
  t.same(minutes(store.range(0, 3, at(0), at(total - CANDLE_HISTORY - 1), 10)), [], 'overwritten ones are gone');
  const edge = total - CANDLE_HISTORY;
  t.same(minutes(store.range(0, 3, -Infinity, at(edge + 1), 10)), [edge, edge + 1], 'the oldest kept');
  // A range over the ring's seam: rows on both sides of where the writing position wrapped.
  const seam = total - 345;
  t.same(store.range(0, 3, at(seam - 2), at(seam + 1), 10), all.slice(seam - 2, seam + 2));
});

t.test('symbols and intervals are separate keys', async (t) => {
  const symbols = 3;
  const store = new RecentCandles(symbols);
  for (let n = 0; n < 5; n++) {
    for (let s = 0; s < symbols; s++) {
      for (let i = 0; i < INTERVAL_COUNT; i++) if ((s + i) % 2 === 0) record(store, candle(s, i, n * (1 + s + i)), s, i);
    }
  }
  for (let s = 0; s < symbols; s++) {
    for (let i = 0; i < INTERVAL_COUNT; i++) {
      const want = (s + i) % 2 === 0 ? Array.from({ length: 5 }, (_, n) => candle(s, i, n * (1 + s + i))) : [];
      t.same(store.range(s, i, -Infinity, Infinity, 100), want, `symbol ${s} interval ${i}`);
    }
  }
});

t.test('random recordings and ranges match the plain lists', async (t) => {
  const random = new Random(21);
  const symbols = 2;
  const store = new RecentCandles(symbols);
  const all: CandleRow[][] = Array.from({ length: symbols * INTERVAL_COUNT }, () => []);
  const next = new Array(symbols * INTERVAL_COUNT).fill(0);
  let checks = 0;
  let bad = '';
  for (let step = 0; step < 30_000 && bad === ''; step++) {
    const s = random.int(symbols);
    const i = random.int(INTERVAL_COUNT);
    const key = s * INTERVAL_COUNT + i;
    // Starts increase per key, with gaps (intervals without trades make no candle).
    next[key] += 1 + (random.next() < 0.3 ? random.int(5) : 0);
    const c = candle(s, i, next[key]);
    record(store, c, s, i);
    all[key].push(c);
    if (random.next() >= 0.05) continue;
    const list = all[key];
    const pick = () => {
      if (random.next() < 0.2) return random.next() < 0.5 ? -Infinity : Infinity;
      return list[random.int(list.length)].start + (random.int(3) - 1);
    };
    let from = pick();
    let to = pick();
    if (from > to && random.next() < 0.9) [from, to] = [to, from];
    const limit = random.next() < 0.3 ? random.int(4) : 1 + random.int(CANDLE_HISTORY);
    const want = expectedRange(list, from, to, limit);
    const got = store.range(s, i, from, to, limit);
    checks++;
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      const call = `step ${step} range(${s}, ${i}, ${from}, ${to}, ${limit})`;
      bad = `${call}: expected ${want.length} ${JSON.stringify(minutes(want).slice(0, 5))}..., got ${got.length} ${JSON.stringify(minutes(got).slice(0, 5))}...`;
    }
  }
  t.equal(bad, '', bad || `${checks} ranges agree`);
  t.ok(all.some((list) => list.length > 2 * CANDLE_HISTORY), 'some keys wrapped around more than once');
});
