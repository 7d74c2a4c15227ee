import t from 'tap';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { decodeMessage, type DecodedMessage } from '../../src/wire/message-decoder';
import { changesOf, encode, everyType, levels, ordersOf, prng, T0 } from './wire-fixtures';

t.test('every message type survives encode → decode unchanged', async (t) => {
  const encoder = new MessageEncoder();
  for (const m of everyType()) t.same(decodeMessage(encode(encoder, m)), m, m.type);
});

t.test('default values (0, empty) are left out on the wire and read back as 0 and empty', async (t) => {
  const encoder = new MessageEncoder();
  const zeros: DecodedMessage[] = [
    { type: 'l2_snapshot', symbol: 'BTC/USD', sequence: 0, timestamp: 0, depth: 0, priceDecimals: 0, sizeDecimals: 0, checksum: 0, bids: [], asks: [] },
    { type: 'l2_update', symbol: 'X', sequence: 1, timestamp: T0, depth: 0, prevSequence: 0, checksum: 0, bids: [], asks: [] },
    { type: 'l3_snapshot', symbol: 'X', sequence: 1, timestamp: T0, priceDecimals: 0, sizeDecimals: 0, bids: [], asks: [] },
    { type: 'l3_update', symbol: 'X', sequence: 1, timestamp: T0, prevSequence: 0, bids: [], asks: [] },
    { type: 'trade', symbol: 'X', sequence: 1, timestamp: T0, tradeId: 0, price: 0, size: 0, side: 0, makerOrderId: 0 },
    { type: 'ticker', symbol: 'X', sequence: 1, timestamp: T0, bid: 0, bidSize: 0, ask: 0, askSize: 0, last: 0, lastSize: 0 },
    { type: 'heartbeat', timestamp: T0, subscriptions: [] },
    { type: 'subscribed', timestamp: T0, channels: [], symbols: [], depth: 0 },
    { type: 'error', timestamp: T0, code: '', message: '' },
  ];
  for (const m of zeros) t.same(decodeMessage(encode(encoder, m)), m, m.type);
  const trade = encode(encoder, zeros[4]).length;
  const full = encode(encoder, everyType()[4]).length;
  t.ok(trade < full, `an all-default trade (${trade} B) is smaller than a full one (${full} B)`);
});

t.test('one side empty, the other not', async (t) => {
  const encoder = new MessageEncoder();
  const bidsOnly: DecodedMessage = { type: 'l2_update', symbol: 'BTC/USD', sequence: 2, timestamp: T0, depth: 10, prevSequence: 1, checksum: 1, bids: levels(3, 100, -1), asks: [] };
  const asksOnly: DecodedMessage = { type: 'l3_update', symbol: 'BTC/USD', sequence: 3, timestamp: T0, prevSequence: 2, bids: [], asks: changesOf(4, 100, 1) };
  t.same(decodeMessage(encode(encoder, bidsOnly)), bidsOnly);
  t.same(decodeMessage(encode(encoder, asksOnly)), asksOnly);
});

t.test('1000-level books, then small messages from the grown builder', async (t) => {
  const encoder = new MessageEncoder();
  const big: DecodedMessage[] = [
    { type: 'l2_snapshot', symbol: 'BTC/USD', sequence: 1, timestamp: T0, depth: 1000, priceDecimals: 1, sizeDecimals: 5, checksum: 9, bids: levels(1000, 670000, -1, 4), asks: levels(1000, 670001, 1, 5) },
    { type: 'l2_update', symbol: 'BTC/USD', sequence: 2, timestamp: T0, depth: 1000, prevSequence: 1, checksum: 9, bids: levels(1000, 670000, -1, 6), asks: levels(1000, 670001, 1, 7) },
    { type: 'l3_snapshot', symbol: 'BTC/USD', sequence: 3, timestamp: T0, priceDecimals: 1, sizeDecimals: 5, bids: ordersOf(1000, 670000, -1, 8), asks: ordersOf(1000, 670001, 1, 9) },
    { type: 'l3_update', symbol: 'BTC/USD', sequence: 4, timestamp: T0, prevSequence: 3, bids: changesOf(1000, 670000, -1, 10), asks: changesOf(1000, 670001, 1, 11) },
  ];
  for (const m of big) {
    const decoded = decodeMessage(encode(encoder, m));
    t.same(decoded, m, `${m.type} with 1000 entries a side`);
  }
  for (const m of everyType()) t.same(decodeMessage(encode(encoder, m)), m, `${m.type} after the big ones`);
});

t.test('bids and asks keep the best-first order they were given in', async (t) => {
  const encoder = new MessageEncoder();
  const m: DecodedMessage = { type: 'l2_snapshot', symbol: 'BTC/USD', sequence: 1, timestamp: T0, depth: 5, priceDecimals: 1, sizeDecimals: 5, checksum: 0, bids: levels(5, 100, -1), asks: levels(5, 101, 1) };
  const decoded = decodeMessage(encode(encoder, m));
  if (decoded.type !== 'l2_snapshot') throw new Error(decoded.type);
  t.same(decoded.bids.map((l) => l[0]), [100, 99, 98, 97, 96]);
  t.same(decoded.asks.map((l) => l[0]), [101, 102, 103, 104, 105]);
});

t.test('a reused encoder writes the same bytes as a fresh one: nothing bleeds between messages', async (t) => {
  const reused = new MessageEncoder();
  const rand = prng(42);
  const pool = everyType();
  let mismatches = 0;
  for (let i = 0; i < 3000; i++) {
    let m = pool[Math.floor(rand() * pool.length)];
    // Vary sizes so a long message is followed by a short one and vice versa.
    if (m.type === 'l2_update') m = { ...m, sequence: i + 1, bids: levels(Math.floor(rand() * 40), 1000, -1, i), asks: [] };
    if (m.type === 'l3_update') m = { ...m, sequence: i + 1, asks: changesOf(Math.floor(rand() * 40), 1000, 1, i) };
    // Now and then a message big enough to grow the builder's buffer.
    if (rand() < 0.01) m = { type: 'l3_snapshot', symbol: 'BTC/USD', sequence: i + 1, timestamp: T0, priceDecimals: 1, sizeDecimals: 5, bids: ordersOf(1500, 1000, -1, i), asks: [] };
    const bytes = encode(reused, m).slice();
    const fresh = encode(new MessageEncoder(), m);
    if (Buffer.compare(bytes, fresh) !== 0) mismatches++;
    if (i % 100 === 0) t.same(decodeMessage(bytes), m, `message ${i} (${m.type})`);
  }
  t.equal(mismatches, 0, 'byte-identical to a fresh encoder across 3000 mixed messages');
});

t.test('a copy of the returned view outlives the next call', async (t) => {
  const encoder = new MessageEncoder();
  const [snapshot, update] = everyType();
  const copy = encode(encoder, snapshot).slice();
  encode(encoder, update);
  t.same(decodeMessage(copy), snapshot, 'a copy taken before the next call stays valid');
});

t.test('symbols are passed as UTF-8 bytes and come back as the same string', async (t) => {
  const encoder = new MessageEncoder();
  for (const symbol of ['BTC/USD', 'Ünï/€', 'A"B\\C', '']) {
    const m: DecodedMessage = { type: 'trade', symbol, sequence: 1, timestamp: T0, tradeId: 1, price: 1, size: 1, side: 0, makerOrderId: 0 };
    t.same(decodeMessage(encode(encoder, m)), m, JSON.stringify(symbol));
  }
});

t.test('a frame inside a larger buffer decodes in place', async (t) => {
  const encoder = new MessageEncoder();
  const big = new Uint8Array(2048);
  for (const [i, m] of everyType().entries()) {
    const bytes = encode(encoder, m);
    const at = 8 * i + 16;
    big.set(bytes, at);
    t.same(decodeMessage(big.subarray(at, at + bytes.length)), m, m.type);
  }
});
