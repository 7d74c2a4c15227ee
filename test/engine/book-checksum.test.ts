import t from 'tap';
import * as zlib from 'node:zlib';
import { CHECKSUM_INIT, checksumFinish, checksumJoin, crcUnits, decimalLength } from '../../src/engine/book-checksum';
import { ASK, BID, OK } from '../../src/model/book-types';
import { OrderBook } from '../../src/engine/order-book';
import { parseUnits } from '../../src/util/decimal';
import { ReferenceBook } from './fixtures/reference-book';

const zlibCrc32 = (zlib as unknown as { crc32(data: string): number }).crc32;

// The worked example of Kraken's "Book checksum (WebSocket v2)" guide (BTC/USD, price
// precision 1, qty precision 8): its snapshot's checksum is 3310070434.
const KRAKEN_BIDS = [
  ['45283.5', '0.10000000'],
  ['45283.4', '1.54582015'],
  ['45282.1', '0.10000000'],
  ['45281.0', '0.10000000'],
  ['45280.3', '1.54592586'],
  ['45279.0', '0.07990000'],
  ['45277.6', '0.03310103'],
  ['45277.5', '0.30000000'],
  ['45277.3', '1.54602737'],
  ['45276.6', '0.15445238'],
];
const KRAKEN_ASKS = [
  ['45285.2', '0.00100000'],
  ['45286.4', '1.54571953'],
  ['45286.6', '1.54571109'],
  ['45289.6', '1.54560911'],
  ['45290.2', '0.15890660'],
  ['45291.8', '1.54553491'],
  ['45294.7', '0.04454749'],
  ['45296.1', '0.35380000'],
  ['45297.5', '0.09945542'],
  ['45299.5', '0.18772827'],
];
const KRAKEN_CHECKSUM = 3310070434;

/** The checksum of levels fed in the given order, [price, size] each. */
function levelsChecksum(levels: number[][]): number {
  let state = CHECKSUM_INIT;
  for (const [price, size] of levels) state = checksumJoin(state, crcUnits(crcUnits(0, price), size), decimalLength(price) + decimalLength(size));
  return checksumFinish(state);
}

/** The same levels the way the documentation computes it: decimal digits concatenated, CRC'd. */
function textChecksum(levels: number[][]): number {
  return zlibCrc32(levels.map(([price, size]) => `${price}${size}`).join(''));
}

t.test("Kraken's documented example", async (t) => {
  const book = new OrderBook(1, 1, null);
  let id = 1;
  for (const [price, qty] of KRAKEN_BIDS) t.equal(book.add(id++, BID, parseUnits(price, 1), parseUnits(qty, 8)), OK);
  for (const [price, qty] of KRAKEN_ASKS) t.equal(book.add(id++, ASK, parseUnits(price, 1), parseUnits(qty, 8)), OK);
  t.equal(book.checksum(), KRAKEN_CHECKSUM);

  const reference = new ReferenceBook(1, 1);
  id = 1;
  for (const [price, qty] of KRAKEN_BIDS) reference.add(id++, BID, parseUnits(price, 1), parseUnits(qty, 8));
  for (const [price, qty] of KRAKEN_ASKS) reference.add(id++, ASK, parseUnits(price, 1), parseUnits(qty, 8));
  t.equal(reference.checksum(1, 8), KRAKEN_CHECKSUM, 'the string-building reference agrees');

  book.add(id++, BID, parseUnits('45270.0', 1), 1);
  book.add(id++, ASK, parseUnits('45300.0', 1), 1);
  t.equal(book.checksum(), KRAKEN_CHECKSUM, 'levels beyond the tenth do not count');
  book.add(id++, ASK, parseUnits('45285.1', 1), 1);
  t.not(book.checksum(), KRAKEN_CHECKSUM, 'a new best ask does');
});

t.test('an empty book checksums the empty string', async (t) => {
  const book = new OrderBook(1, 1, null);
  t.equal(book.checksum(), 0);
  book.add(1, BID, 5, 1);
  t.equal(book.checksum(), textChecksum([[5, 1]]), 'one-sided');
});

t.test('digit boundaries up to 2^53 match the decimal text', async (t) => {
  const values = [1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 10001, 99999, 100000, 123456, 1e6, 1234567, 1e7 - 1, 1e7,
    1e8 - 1, 1e8, 1e8 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 7, 1e12 - 1, 1e12, 1e12 + 9999, 1e15 + 10000, 2 ** 53 - 1,
    2 ** 53 - 2, 9007199254739999, 9007199254730000, 8999999999999999, 1000000000009999];
  for (const value of values) {
    for (const levels of [[[value, 1]], [[3, value]], [[value, value], [7, 12345678]]]) {
      t.equal(levelsChecksum(levels), textChecksum(levels), JSON.stringify(levels));
    }
  }
  // Every digit count of the price against every digit count of the size.
  let mismatches = 0;
  for (let a = 0; a < 16; a++) {
    for (let b = 0; b < 16; b++) {
      const levels = [[10 ** a + a, 10 ** b * 3 - 1], [2 * 10 ** a - 1, 10 ** b]];
      if (levelsChecksum(levels) !== textChecksum(levels)) mismatches++;
    }
  }
  t.equal(mismatches, 0, '1 to 16 digits each');
  for (let high = 90071992; high > 90071992 - 3000; high--) {
    for (const value of [high * 1e8, high * 1e8 + 99999999, high * 1e8 + 9999, high * 1e8 + 10000]) {
      if (value > Number.MAX_SAFE_INTEGER) continue;
      if (levelsChecksum([[value, 1]]) !== textChecksum([[value, 1]])) mismatches++;
    }
  }
  t.equal(mismatches, 0, 'the ends of 10^8 and 10^4 blocks near 2^53');
});

t.test('splitting at 10^8 by multiplying is exact for every integer below 2^53', async (t) => {
  // book-checksum.ts relies on Math.floor(units * 1e-8) being the true quotient. Rounding is
  // monotonic, so checking the first and last integer of every block of 10^8 covers them all.
  let wrong = 0;
  for (let high = 1; high * 1e8 <= Number.MAX_SAFE_INTEGER; high++) {
    const first = high * 1e8;
    const last = Math.min(first + 99999999, Number.MAX_SAFE_INTEGER);
    if (Math.floor(first * 1e-8) !== high || Math.floor(last * 1e-8) !== high) wrong++;
  }
  t.equal(wrong, 0);
});

t.test('random books agree with the string-building reference', async (t) => {
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  let mismatches = 0;
  const rounds = 2000;
  for (let round = 0; round < rounds; round++) {
    const priceDecimals = Math.floor(random() * 9);
    const sizeDecimals = Math.floor(random() * 9);
    const scale = 10 ** Math.floor(random() * 15);
    const book = new OrderBook(1, 1, null);
    const reference = new ReferenceBook(1, 1);
    const orders = Math.floor(random() * 40);
    const mid = 1 + Math.floor(random() * scale) + 40;
    for (let id = 1; id <= orders; id++) {
      const side = random() < 0.5 ? BID : ASK;
      const price = side === BID ? mid - Math.floor(random() * 30) : mid + Math.floor(random() * 30);
      const size = 1 + Math.floor(random() * scale);
      book.add(id, side, price, size);
      reference.add(id, side, price, size);
    }
    if (book.checksum() !== reference.checksum(priceDecimals, sizeDecimals)) mismatches++;
  }
  t.equal(mismatches, 0, `${rounds} books, precisions 0 to 8, magnitudes up to 10^15`);
});

t.test('the cached checksum follows every change, checked after each event or after a few', async (t) => {
  // The book updates a side's register in place when one thing changed since the last checksum
  // (sizes at one position, one level inserted or removed), and otherwise rejoins the side from
  // the first position that changed (from the best when it has no listener, which searches for
  // no position): every kind of change, at the top, at the tenth level, just below it and deep,
  // on either side, with and without a listener, one at a time or several between two checksums,
  // must leave it exact.
  let seed = 11;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const pick = (n: number) => Math.floor(random() * n);
  const quiet = { onOrder() {}, onLevel() {}, onTrade() {} };
  for (const [listener, every] of [[null, 1], [quiet, 1], [null, 3], [quiet, 3]] as const) {
    const book = new OrderBook(1, 1, listener);
    const reference = new ReferenceBook(1, 1);
    const live: number[] = [];
    let nextId = 1;
    let mismatches = 0;
    const events = 20000;
    for (let n = 0; n < events; n++) {
      const roll = random();
      const id = live.length > 0 ? live[pick(live.length)] : 0;
      const size = () => 1 + pick(random() < 0.5 ? 9 : 99999);
      if (live.length < 30 || roll < 0.35) {
        const side = random() < 0.5 ? BID : ASK;
        // 1000 is the touch; levels spread 25 deep on each side.
        const price = side === BID ? 1000 - pick(25) : 1001 + pick(25);
        const newId = nextId++;
        const newSize = size();
        book.add(newId, side, price, newSize);
        reference.add(newId, side, price, newSize);
        live.push(newId);
      } else if (roll < 0.5) {
        book.delete(id);
        reference.delete(id);
        live.splice(live.indexOf(id), 1);
      } else if (roll < 0.65) {
        const by = 1 + pick(book.orderSize(id));
        book.execute(id, by);
        reference.execute(id, by);
        if (!book.hasOrder(id)) live.splice(live.indexOf(id), 1);
      } else if (roll < 0.75) {
        const by = 1 + pick(book.orderSize(id));
        book.cancel(id, by);
        reference.cancel(id, by);
        if (!book.hasOrder(id)) live.splice(live.indexOf(id), 1);
      } else if (roll < 0.85) {
        const to = pick(book.orderSize(id));
        if (to > 0) {
          book.modify(id, to);
          reference.modify(id, to);
        }
      } else if (roll < 0.999) {
        const side = book.orderSide(id);
        const price = side === BID ? 1000 - pick(25) : 1001 + pick(25);
        const newId = nextId++;
        const newSize = size();
        book.replace(id, newId, price, newSize);
        reference.replace(id, newId, price, newSize);
        live.splice(live.indexOf(id), 1, newId);
      } else {
        book.clear();
        reference.clear();
        live.length = 0;
      }
      // Every event, or after 1 to `every` events.
      if (every === 1 || random() * every < 1) {
        if (book.checksum() !== reference.checksum(2, 4)) mismatches++;
      }
    }
    t.equal(mismatches, 0, `${events} events, ${listener === null ? 'no listener' : 'a listener'}, checked ${every === 1 ? 'after each' : 'now and then'}`);
  }
});
