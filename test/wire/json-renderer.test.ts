import t from 'tap';
import { MessageEncoder } from '../../src/wire/message-encoder';
import type { DecodedMessage } from '../../src/wire/message-decoder';
import { renderJson, type JsonFormat } from '../../src/wire/json-renderer';
import { formatUnits } from '../../src/util/decimal';
import { changesOf, encode, everyType, levels, ordersOf, prng, T0 } from './wire-fixtures';

const FORMATS: Record<string, JsonFormat> = {
  'BTC/USD': { priceDecimals: 1, sizeDecimals: 5 },
  'ETH/USD': { priceDecimals: 2, sizeDecimals: 4 },
  'SOL/USD': { priceDecimals: 3, sizeDecimals: 2 },
  'XRP/USD': { priceDecimals: 4, sizeDecimals: 0 },
};
const ANY = FORMATS['BTC/USD'];

function render(m: DecodedMessage, fmt: JsonFormat = 'symbol' in m ? FORMATS[m.symbol] : ANY): string {
  return renderJson(encode(new MessageEncoder(), m), fmt);
}

t.test('every message type renders the Data Feed shape with exact decimals', async (t) => {
  const expected: unknown[] = [
    { type: 'l2_snapshot', symbol: 'BTC/USD', timestamp: '2026-11-22T00:27:02.123456Z', sequence: 12, checksum: 3735928559,
      data: { depth: 10, bids: [['67000.1', '0.50000'], ['67000.0', '0.00001']], asks: [['67000.2', '0.00007']] } },
    { type: 'l2_update', symbol: 'BTC/USD', timestamp: '2026-11-22T00:27:02.123457Z', sequence: 13, prev_sequence: 12, checksum: 456,
      data: { depth: 10, bids: [['67000.1', '0.00000']], asks: [['67000.3', '90071992547.40991'], ['67000.4', '0.00003']] } },
    { type: 'l3_snapshot', symbol: 'ETH/USD', timestamp: '2026-11-22T00:27:02.123458Z', sequence: 9007199254740991,
      data: { bids: [{ order_id: 5, price: '3400.00', size: '0.0010' }],
        asks: [{ order_id: 4503599627370497, price: '3400.01', size: '0.0020' }, { order_id: 6, price: '3400.02', size: '0.0030' }] } },
    { type: 'l3_update', symbol: 'ETH/USD', timestamp: '2026-11-22T00:27:02.123459Z', sequence: 100, prev_sequence: 99,
      data: { bids: [{ event: 'add', order_id: 7, price: '3399.99', size: '0.0005' }, { event: 'modify', order_id: 8, price: '3399.98', size: '0.0006' }],
        asks: [{ event: 'delete', order_id: 9, price: '3400.05', size: '0.0000' }] } },
    { type: 'trade', symbol: 'SOL/USD', timestamp: '2026-11-22T00:27:02.123460Z', sequence: 7,
      data: { trade_id: 77, price: '150.123', size: '45.00', side: 'sell', maker_order_id: 55 } },
    { type: 'ticker', symbol: 'XRP/USD', timestamp: '2026-11-22T00:27:02.123461Z', sequence: 8,
      data: { bid: '0.5999', bid_size: '100', ask: '0.6001', ask_size: '200', last: '0.6000', last_size: '50' } },
    { type: 'heartbeat', timestamp: '2026-11-22T00:27:02.123462Z',
      data: { subscriptions: [{ channel: 'l2', symbol: 'BTC/USD', depth: 10, sequence: 99 }, { channel: 'trade', symbol: 'ETH/BTC', depth: 0, sequence: 1099511627776 }] } },
    { type: 'subscribed', timestamp: '2026-11-22T00:27:02.123463Z', data: { channels: ['l2', 'trade'], symbols: ['BTC/USD', 'ETH/USD'], depth: 25 } },
    { type: 'error', timestamp: '2026-11-22T00:27:02.123464Z', data: { code: 'UNKNOWN_SYMBOL', message: 'no such symbol: "DOGE/USD" ✗' } },
  ];
  everyType().forEach((m, i) => t.same(JSON.parse(render(m)), expected[i], m.type));
});

t.test('key order and number syntax match the spec byte for byte', async (t) => {
  const m: DecodedMessage = { type: 'l2_update', symbol: 'BTC/USD', sequence: 13, timestamp: T0, depth: 10, prevSequence: 12, checksum: 456, bids: [[670001, 0]], asks: [] };
  t.equal(
    render(m),
    '{"type":"l2_update","symbol":"BTC/USD","timestamp":"2026-11-22T00:27:02.123456Z","sequence":13,"prev_sequence":12,"checksum":456,' +
      '"data":{"depth":10,"bids":[["67000.1","0.00000"]],"asks":[]}}',
  );
  const trade: DecodedMessage = { type: 'trade', symbol: 'BTC/USD', sequence: 2 ** 53 - 1, timestamp: T0, tradeId: 2 ** 53 - 2, price: 5, size: 1, side: 0, makerOrderId: 0 };
  t.equal(
    render(trade),
    '{"type":"trade","symbol":"BTC/USD","timestamp":"2026-11-22T00:27:02.123456Z","sequence":9007199254740991,' +
      '"data":{"trade_id":9007199254740990,"price":"0.5","size":"0.00001","side":"buy","maker_order_id":0}}',
  );
});

t.test('ticker fields that are 0 render as null', async (t) => {
  const m: DecodedMessage = { type: 'ticker', symbol: 'BTC/USD', sequence: 1, timestamp: T0, bid: 0, bidSize: 0, ask: 670001, askSize: 3, last: 0, lastSize: 0 };
  t.same(JSON.parse(render(m)).data, { bid: null, bid_size: null, ask: '67000.1', ask_size: '0.00003', last: null, last_size: null });
});

t.test('empty books render as empty arrays', async (t) => {
  const snapshot: DecodedMessage = { type: 'l3_snapshot', symbol: 'BTC/USD', sequence: 1, timestamp: T0, priceDecimals: 1, sizeDecimals: 5, bids: [], asks: [] };
  t.same(JSON.parse(render(snapshot)).data, { bids: [], asks: [] });
  const heartbeat: DecodedMessage = { type: 'heartbeat', timestamp: T0, subscriptions: [] };
  t.same(JSON.parse(render(heartbeat)).data, { subscriptions: [] });
});

t.test('symbols and strings are JSON-escaped, and the symbol cache never mixes them up', async (t) => {
  const symbols = ['BTC/USD', 'A"B\\C', 'Ünï/€', 'tab\there', 'ctl\u0001', '</script>', 'BTC/USE', ''];
  const encoder = new MessageEncoder();
  for (let round = 0; round < 3; round++) {
    for (const symbol of symbols) {
      const bytes = encode(encoder, { type: 'trade', symbol, sequence: round, timestamp: T0, tradeId: 1, price: 1, size: 1, side: 0, makerOrderId: 0 });
      t.equal(JSON.parse(renderJson(bytes, ANY)).symbol, symbol, `${JSON.stringify(symbol)} round ${round}`);
    }
  }
  const error: DecodedMessage = { type: 'error', timestamp: T0, code: 'BAD"CODE', message: 'line\nbreak \\ "quoted" \u2028' };
  t.same(JSON.parse(render(error)).data, { code: 'BAD"CODE', message: 'line\nbreak \\ "quoted" \u2028' });
});

/** What the Data Feed spec says a decoded message looks like, built independently of the renderer. */
function reference(m: DecodedMessage, fmt: JsonFormat): unknown {
  const p = (u: number) => formatUnits(u, fmt.priceDecimals);
  const s = (u: number) => formatUnits(u, fmt.sizeDecimals);
  const head = (type: string, sym: { symbol: string; sequence: number; timestamp: number }) => ({
    type,
    symbol: sym.symbol,
    timestamp: new Date((sym.timestamp - (sym.timestamp % 1000)) / 1000).toISOString().replace('Z', String(sym.timestamp % 1000).padStart(3, '0') + 'Z'),
    sequence: sym.sequence,
  });
  switch (m.type) {
    case 'l2_snapshot':
      return { ...head(m.type, m), checksum: m.checksum, data: { depth: m.depth, bids: m.bids.map(([a, b]) => [p(a), s(b)]), asks: m.asks.map(([a, b]) => [p(a), s(b)]) } };
    case 'l2_update':
      return { ...head(m.type, m), prev_sequence: m.prevSequence, checksum: m.checksum, data: { depth: m.depth, bids: m.bids.map(([a, b]) => [p(a), s(b)]), asks: m.asks.map(([a, b]) => [p(a), s(b)]) } };
    case 'l3_snapshot': {
      const o = (x: { orderId: number; price: number; size: number }) => ({ order_id: x.orderId, price: p(x.price), size: s(x.size) });
      return { ...head(m.type, m), data: { bids: m.bids.map(o), asks: m.asks.map(o) } };
    }
    case 'l3_update': {
      const names = ['add', 'modify', 'delete'];
      const o = (x: { event: number; orderId: number; price: number; size: number }) => ({ event: names[x.event], order_id: x.orderId, price: p(x.price), size: s(x.size) });
      return { ...head(m.type, m), prev_sequence: m.prevSequence, data: { bids: m.bids.map(o), asks: m.asks.map(o) } };
    }
    default:
      throw new Error(`no reference for ${m.type}`);
  }
}

t.test('large and random books render exactly as the reference says', async (t) => {
  const rand = prng(5);
  const encoder = new MessageEncoder();
  const fmt = { priceDecimals: 8, sizeDecimals: 8 };
  const messages: DecodedMessage[] = [
    { type: 'l2_snapshot', symbol: 'BTC/USD', sequence: 1, timestamp: T0, depth: 1000, priceDecimals: 8, sizeDecimals: 8, checksum: 1, bids: levels(1000, 2 ** 52, -7, 1), asks: levels(1000, 2 ** 52 + 1, 7, 2) },
    { type: 'l3_snapshot', symbol: 'BTC/USD', sequence: 2, timestamp: T0, priceDecimals: 8, sizeDecimals: 8, bids: ordersOf(1000, 1, 0, 3), asks: ordersOf(1000, 10 ** 8, 1, 4) },
  ];
  for (let i = 0; i < 200; i++) {
    const timestamp = Math.floor(rand() * 2 ** 52);
    messages.push(
      { type: 'l2_update', symbol: 'BTC/USD', sequence: i + 3, timestamp, depth: 10, prevSequence: i + 2, checksum: Math.floor(rand() * 2 ** 32), bids: levels(Math.floor(rand() * 4), Math.floor(rand() * 2 ** 50), -1, i), asks: levels(Math.floor(rand() * 4), Math.floor(rand() * 2 ** 50), 1, i + 1) },
      { type: 'l3_update', symbol: 'BTC/USD', sequence: i + 3, timestamp, prevSequence: i + 2, bids: changesOf(Math.floor(rand() * 4), 5, -1, i), asks: changesOf(Math.floor(rand() * 4), 1234567, 1, i) },
    );
  }
  let mismatches = 0;
  for (const m of messages) {
    const actual = JSON.parse(renderJson(encode(encoder, m), fmt));
    if (JSON.stringify(actual) !== JSON.stringify(reference(m, fmt))) mismatches++;
  }
  t.equal(mismatches, 0, `${messages.length} messages`);
});

t.test('frames are read in place inside a larger buffer, and buffers can change between calls', async (t) => {
  const encoder = new MessageEncoder();
  const [snapshot, update, , , trade] = everyType();
  const ring = new Uint8Array(new SharedArrayBuffer(4096));
  const a = encode(encoder, snapshot);
  ring.set(a, 3);
  const frameA = ring.subarray(3, 3 + a.length);
  const b = encode(encoder, update);
  ring.set(b, 1000);
  const frameB = ring.subarray(1000, 1000 + b.length);
  const standalone = encode(encoder, trade).slice();
  const expected = [render(snapshot), render(update), render(trade)];
  for (let round = 0; round < 3; round++) {
    t.equal(renderJson(frameA, FORMATS['BTC/USD']), expected[0], `round ${round}: frame at offset 3`);
    t.equal(renderJson(frameB, FORMATS['BTC/USD']), expected[1], `round ${round}: frame at offset 1000`);
    t.equal(renderJson(standalone, FORMATS['SOL/USD']), expected[2], `round ${round}: a frame in its own buffer`);
  }
});
