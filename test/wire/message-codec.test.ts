import t from 'tap';
import * as flatbuffers from 'flatbuffers';
import { Body } from '../../src/wire/generated/bookcast/wire/body';
import { Envelope } from '../../src/wire/generated/bookcast/wire/envelope';
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
    { type: 'ticker', symbol: 'X', sequence: 1, timestamp: T0, bid: 0, bidSize: 0, ask: 0, askSize: 0, last: 0, lastSize: 0, volume24h: 0, high24h: 0, low24h: 0, open24h: 0, volume24hRest: 0 },
    { type: 'candle', symbol: 'X', sequence: 1, timestamp: T0, interval: 0, start: 0, open: 0, high: 0, low: 0, close: 0, volume: 0, notional: 0, count: 0, final: false,
      volumeRest: 0, notionalRest: 0 },
    { type: 'heartbeat', timestamp: T0, subscriptions: [] },
    { type: 'subscribed', timestamp: T0, channels: [], symbols: [], depth: 0 },
    { type: 'error', timestamp: T0, code: '', message: '' },
  ];
  for (const m of zeros) t.same(decodeMessage(encode(encoder, m)), m, m.type);
  const trade = encode(encoder, zeros[4]).length;
  const candle = encode(encoder, zeros[6]).length;
  t.ok(candle < encode(encoder, everyType()[9]).length, `an all-default candle (${candle} B) is smaller than a full one`);
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

t.test('candles: every interval, final or not, empty or not', async (t) => {
  const encoder = new MessageEncoder();
  for (let interval = 0; interval < 6; interval++) {
    for (const final of [false, true]) {
      const full: DecodedMessage = { type: 'candle', symbol: 'BTC/USD', sequence: 10 + interval, timestamp: T0, interval, start: T0 - (T0 % 60_000_000),
        open: 670_000, high: 670_100, low: 669_900, close: 670_050, volume: 2 ** 60, volumeRest: 3, notional: 2 ** 80, notionalRest: -(2 ** 20), count: 12, final };
      const empty: DecodedMessage = { ...full, open: 0, high: 0, low: 0, close: 0, volume: 0, volumeRest: 0, notional: 0, notionalRest: 0, count: 0 };
      t.same(decodeMessage(encode(encoder, full)), full, `interval ${interval}, final ${final}`);
      t.same(decodeMessage(encode(encoder, empty)), empty, `empty, interval ${interval}, final ${final}`);
    }
  }
});

/** A Ticker as the schema had it before the 24h fields: six doubles, a 6-slot vtable. */
function oldTicker(f: readonly number[]): Uint8Array {
  const b = new flatbuffers.Builder(256);
  const symbol = b.createString('BTC/USD');
  b.startObject(6);
  f.forEach((value, slot) => b.addFieldFloat64(slot, value, 0));
  const body = b.endObject();
  Envelope.startEnvelope(b);
  Envelope.addSequence(b, 3);
  Envelope.addTimestamp(b, T0);
  Envelope.addSymbol(b, symbol);
  Envelope.addBody(b, body);
  Envelope.addBodyType(b, Body.Ticker);
  Envelope.finishEnvelopeBuffer(b, Envelope.endEnvelope(b));
  return b.asUint8Array();
}

t.test('tickers from before the 24h fields still decode, and without 24h figures the bytes are unchanged', async (t) => {
  const f = [670_000, 1, 670_001, 2, 670_000, 3];
  const old = oldTicker(f);
  t.same(decodeMessage(old), { type: 'ticker', symbol: 'BTC/USD', sequence: 3, timestamp: T0, bid: f[0], bidSize: f[1], ask: f[2], askSize: f[3],
    last: f[4], lastSize: f[5], volume24h: 0, high24h: 0, low24h: 0, open24h: 0, volume24hRest: 0 });
  const now = new MessageEncoder().ticker(new TextEncoder().encode('BTC/USD'), 3, T0, f[0], f[1], f[2], f[3], f[4], f[5], 0, 0, 0, 0, 0);
  t.same(Buffer.from(now), Buffer.from(old), 'an old reader sees the same bytes');
});
