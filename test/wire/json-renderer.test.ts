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
      data: { bid: '0.5999', bid_size: '100', ask: '0.6001', ask_size: '200', last: '0.6000', last_size: '50',
        volume_24h: '123456', high_24h: '0.6100', low_24h: '0.5900', change_24h: '-0.15' } },
    { type: 'heartbeat', timestamp: '2026-11-22T00:27:02.123462Z',
      data: { subscriptions: [{ channel: 'l2', symbol: 'BTC/USD', depth: 10, sequence: 99 }, { channel: 'trade', symbol: 'ETH/BTC', depth: 0, sequence: 1099511627776 }] } },
    { type: 'subscribed', timestamp: '2026-11-22T00:27:02.123463Z', data: { channels: ['l2', 'trade'], symbols: ['BTC/USD', 'ETH/USD'], depth: 25 } },
    { type: 'error', timestamp: '2026-11-22T00:27:02.123464Z', data: { code: 'UNKNOWN_SYMBOL', message: 'no such symbol: "DOGE/USD" ✗' } },
    { type: 'candle', symbol: 'SOL/USD', timestamp: '2026-11-22T00:27:02.123465Z', sequence: 9,
      data: { interval: '1h', start: '2026-11-22T00:00:00.000000Z', open: '150.000', high: '150.500', low: '149.250', close: '150.123',
        volume: '60.00', vwap: '150.063', trades: 3, final: true } },
  ];
  t.equal(expected.length, everyType().length);
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

t.test('ticker fields that are 0 render as null, but volume_24h as a zero decimal', async (t) => {
  const m: DecodedMessage = { type: 'ticker', symbol: 'BTC/USD', sequence: 1, timestamp: T0, bid: 0, bidSize: 0, ask: 670001, askSize: 3, last: 0, lastSize: 0,
    volume24h: 0, high24h: 0, low24h: 0, open24h: 670000, volume24hRest: 0 };
  t.equal(
    render(m),
    '{"type":"ticker","symbol":"BTC/USD","timestamp":"2026-11-22T00:27:02.123456Z","sequence":1,' +
      '"data":{"bid":null,"bid_size":null,"ask":"67000.1","ask_size":"0.00003","last":null,"last_size":null,' +
      '"volume_24h":"0.00000","high_24h":null,"low_24h":null,"change_24h":null}}',
  );
});

function tickerWith(last: number, open24h: number): DecodedMessage {
  return { type: 'ticker', symbol: 'BTC/USD', sequence: 2, timestamp: T0, bid: 670000, bidSize: 1, ask: 670001, askSize: 2, last, lastSize: 3,
    volume24h: 1_234_567, high24h: 680000, low24h: 660000, open24h, volume24hRest: 0 };
}

t.test('ticker: volume_24h past 2^53 is the exact sum of volume24h and its rest', async (t) => {
  // 120,000 trades of 2^53 - 1: 1,080,863,910,568,919,040,120,000 units, which no double holds.
  const exact = 120_000n * (2n ** 53n - 1n);
  const hi = Number(exact);
  const rest = Number(exact - BigInt(hi));
  t.not(rest, 0, 'the sum needs its rest');
  const m = { ...tickerWith(670_000, 670_000), volume24h: hi, volume24hRest: rest } as DecodedMessage;
  t.equal(JSON.parse(render(m)).data.volume_24h, `${exact / 100_000n}.${(exact % 100_000n).toString().padStart(5, '0')}`);
});

t.test('ticker: the 24h fields byte for byte', async (t) => {
  t.equal(
    render(tickerWith(670_005, 670_000)),
    '{"type":"ticker","symbol":"BTC/USD","timestamp":"2026-11-22T00:27:02.123456Z","sequence":2,' +
      '"data":{"bid":"67000.0","bid_size":"0.00001","ask":"67000.1","ask_size":"0.00002","last":"67000.5","last_size":"0.00003",' +
      '"volume_24h":"12.34567","high_24h":"68000.0","low_24h":"66000.0","change_24h":"0.00"}}',
  );
});

t.test('change_24h: two decimals, halves away from zero, null without last or open', async (t) => {
  const change = (last: number, open: number) => JSON.parse(render(tickerWith(last, open))).data.change_24h;
  const cases: [last: number, open: number, expected: string | null][] = [
    [100_000, 100_000, '0.00'],
    [100_015, 100_000, '0.02'], // 0.015 exactly: half away from zero
    [99_985, 100_000, '-0.02'], // -0.015 exactly
    [100_014, 100_000, '0.01'], // 0.014
    [99_986, 100_000, '-0.01'],
    [100_004, 100_000, '0.00'], // 0.004
    [99_996, 100_000, '0.00'], // -0.004 rounds to zero, printed without a sign
    [200_000, 100_000, '100.00'],
    [1, 100_000, '-100.00'], // -99.999
    [300_000, 100_000, '200.00'],
    [2, 3, '-33.33'],
    [1, 3, '-66.67'],
    [3, 2, '50.00'],
    [7, 6, '16.67'],
    [0, 100_000, null],
    [100_000, 0, null],
    // 8-decimal prices (BTC at 67000)
    [6_700_335_000_000, 6_700_000_000_000, '0.01'], // 0.005 exactly
    [6_699_665_000_000, 6_700_000_000_000, '-0.01'], // -0.005 exactly
    [6_699_665_000_001, 6_700_000_000_000, '0.00'], // just under -0.005 in size
    // ... moving 15%: the difference times 10^4 passes 2^53, and the exact BigInt path takes over
    [7_705_335_000_000, 6_700_000_000_000, '15.01'], // 15.005 exactly
    [5_694_665_000_000, 6_700_000_000_000, '-15.01'], // -15.005 exactly
    [5_694_665_000_001, 6_700_000_000_000, '-15.00'], // just under -15.005 in size
    [7_705_334_999_999, 6_700_000_000_000, '15.00'],
    [2 ** 53 - 1, 1, '900719925474099000.00'],
  ];
  for (const [last, open, expected] of cases) t.equal(change(last, open), expected, `last ${last}, open ${open}`);
});

t.test('change_24h matches an exact BigInt reference on random prices', async (t) => {
  const rand = prng(17);
  /** Half away from zero on (last - open) * 10^4 / open, in BigInt, then 2 decimals. */
  const exact = (last: number, open: number): string => {
    const n = (BigInt(last) - BigInt(open)) * 10_000n;
    const d = BigInt(open);
    const negative = n < 0n;
    const m = negative ? -n : n;
    const q = (2n * m + d) / (2n * d);
    return q === 0n ? '0.00' : (negative ? '-' : '') + formatUnits(Number(q), 2);
  };
  let mismatches = 0;
  for (let i = 0; i < 20_000; i++) {
    const scale = 10 ** Math.floor(rand() * 14);
    const open = 1 + Math.floor(rand() * scale);
    // Mostly within a few percent, where rounding ties and near-ties live; now and then anything.
    const last = rand() < 0.8 ? Math.max(1, open + Math.round((rand() - 0.5) * open * 0.1)) : 1 + Math.floor(rand() * scale);
    const actual = JSON.parse(render(tickerWith(last, open))).data.change_24h;
    if (actual !== exact(last, open) && mismatches++ < 5) t.fail(`last ${last}, open ${open}: ${actual}, expected ${exact(last, open)}`);
  }
  t.equal(mismatches, 0, '20000 random changes');
});

function candleOf(fields: Partial<Extract<DecodedMessage, { type: 'candle' }>>): DecodedMessage {
  return { type: 'candle', symbol: 'BTC/USD', sequence: 5, timestamp: T0, interval: 0, start: T0 - (T0 % 60_000_000), open: 670_000, high: 670_010,
    low: 669_990, close: 670_005, volume: 300_000, notional: 670_000 * 100_000 + 670_010 * 200_000, count: 2, final: false, volumeRest: 0, notionalRest: 0, ...fields };
}

t.test('candle: the Data Feed shape byte for byte', async (t) => {
  t.equal(
    render(candleOf({})),
    '{"type":"candle","symbol":"BTC/USD","timestamp":"2026-11-22T00:27:02.123456Z","sequence":5,' +
      '"data":{"interval":"1m","start":"2026-11-22T00:27:00.000000Z","open":"67000.0","high":"67001.0","low":"66999.0","close":"67000.5",' +
      '"volume":"3.00000","vwap":"67000.7","trades":2,"final":false}}',
  );
  t.equal(
    render(candleOf({ interval: 5, start: 1_795_305_600_000_000, count: 0, open: 0, high: 0, low: 0, close: 0, volume: 0, notional: 0, final: true })),
    '{"type":"candle","symbol":"BTC/USD","timestamp":"2026-11-22T00:27:02.123456Z","sequence":5,' +
      '"data":{"interval":"1d","start":"2026-11-22T00:00:00.000000Z","open":null,"high":null,"low":null,"close":null,' +
      '"volume":"0.00000","vwap":null,"trades":0,"final":true}}',
    'an empty candle',
  );
});

t.test('candle: every interval by name', async (t) => {
  const names = ['1m', '5m', '15m', '1h', '4h', '1d'];
  names.forEach((name, interval) => t.equal(JSON.parse(render(candleOf({ interval }))).data.interval, name));
  t.throws(() => render(candleOf({ interval: names.length })), { code: 'BAD_FRAME', message: /unknown candle interval 6/ });
});

t.test('candle: vwap is notional / volume, halves up, exact past 2^53', async (t) => {
  const vwap = (notional: number, volume: number) => JSON.parse(render(candleOf({ notional, volume }))).data.vwap;
  t.equal(vwap(670_000 * 3, 3), '67000.0');
  t.equal(vwap(2 * 670_000 + 670_001, 3), '67000.0', '670000.33 rounds down');
  t.equal(vwap(670_000 + 670_001, 2), '67000.1', '670000.5 rounds up');
  t.equal(vwap(670_000 + 2 * 670_001, 3), '67000.1', '670000.67 rounds up');
  t.equal(vwap(1, 3), '0.0', '0.33 units');
  t.equal(vwap(0, 3), '0.0', 'trades at price 0');
  t.equal(vwap(5, 0), null, 'trades of size 0 have no average');
  t.equal(vwap(-5, 2), '-0.3', 'negative prices round half away from zero');
  // 8-decimal BTC, 10 BTC traded: a notional near 6.7e21, far past 2^53.
  const price = 6_700_012_345_678;
  const size = 1_000_000_000;
  t.equal(JSON.parse(render(candleOf({ notional: price * size, volume: size }), { priceDecimals: 8, sizeDecimals: 8 })).data.vwap, '67000.12345678');
  // 2^60 + 2^11 over 2^12: 2^48 + 0.5, a tie beyond 2^53 resolved up.
  t.equal(vwap(2 ** 60 + 2 ** 11, 2 ** 12), formatUnits(2 ** 48 + 1, 1));
  t.equal(vwap(2 ** 60 + 2 ** 10, 2 ** 12), formatUnits(2 ** 48, 1), '2^48 + 0.25 rounds down');
});

t.test('candle: volume and vwap past 2^53 use the rests exactly', async (t) => {
  // Volume 2^60 + 1 (hi 2^60, rest 1); notional (2^60 + 1) * 3 + 1: the VWAP is 3 + 1/(2^60+1), rounding to 3.
  const volume = 2n ** 60n + 1n;
  const notional = volume * 3n + 1n;
  const pair = (v: bigint) => ({ hi: Number(v), rest: Number(v - BigInt(Number(v))) });
  const v = pair(volume);
  const n = pair(notional);
  const data = JSON.parse(render(candleOf({ volume: v.hi, volumeRest: v.rest, notional: n.hi, notionalRest: n.rest }), { priceDecimals: 0, sizeDecimals: 0 })).data;
  t.equal(data.volume, volume.toString());
  t.equal(data.vwap, '3');
  // Without the rests the volume would print as 2^60 exactly.
  t.not(data.volume, (2n ** 60n).toString());
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
      // Book messages are written as ASCII bytes: the symbol's other characters go in escaped.
      const update = encode(encoder, { type: 'l2_update', symbol, sequence: round + 1, timestamp: T0, depth: 10, prevSequence: round, checksum: 7, bids: [[670001, 5]], asks: [] });
      const rendered = renderJson(update, ANY);
      t.equal(JSON.parse(rendered).symbol, symbol, `${JSON.stringify(symbol)} in an l2_update, round ${round}`);
      t.match(rendered, /^[\x20-\x7e]*$/, 'printable ASCII only');
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
