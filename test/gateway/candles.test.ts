import t from 'tap';
import WebSocket from 'ws';
import { sharedTestServer, waitFor } from '../helpers/test-server';

interface Json {
  type: string;
  sequence?: number;
  data?: any;
}

function collect(url: string): { ws: WebSocket; messages: Json[]; opened: Promise<void> } {
  const ws = new WebSocket(`${url}/ws`);
  const messages: Json[] = [];
  ws.on('message', (d: Buffer) => messages.push(JSON.parse(d.toString())));
  return { ws, messages, opened: new Promise((resolve) => ws.once('open', () => resolve())) };
}

const units = (text: string) => Math.round(Number(text) * 1e5);

/** Every subtest subscribes a client of its own to a symbol of its own, or only reads: one server. */
const market = sharedTestServer(t, ['--rate', '3000', '--symbols', 'BTC/USD,ETH/USD']);

t.test('candles: snapshot, then every trade moves the candle by exactly that trade', async (t) => {
  const srv = await market();
  const c = collect(srv.url);
  await c.opened;
  c.ws.send(JSON.stringify({ type: 'subscribe', channels: ['trades'], symbols: ['BTC/USD'] }));
  await waitFor('trades', () => c.messages.some((m) => m.type === 'trade'));
  c.ws.send(JSON.stringify({ type: 'subscribe', channels: ['candles'], symbols: ['BTC/USD'], interval: '1m' }));
  await waitFor('30 candle updates', () => c.messages.filter((m) => m.type === 'candle').length > 30);
  const subscribed = c.messages.find((m) => m.type === 'subscribed' && m.data.channels.includes('candles'))!;
  t.equal(subscribed.data.interval, '1m');

  let previous: Json | null = null;
  let checked = 0;
  for (let i = 0; i < c.messages.length; i++) {
    const m = c.messages[i];
    if (m.type !== 'candle') continue;
    t.equal(m.data.interval, '1m');
    t.match(m.data.start, /:00\.000000Z$/, 'a minute candle starts on the minute');
    if (previous !== null && previous.data.start === m.data.start && !previous.data.final) {
      // Trades printed between the two candle messages are exactly the candle's growth.
      const between = c.messages.filter((x) => x.type === 'trade' && x.sequence! > previous!.sequence! && x.sequence! <= m.sequence!);
      t.equal(m.data.trades - previous.data.trades, between.length, `trades between ${previous.sequence} and ${m.sequence}`);
      t.equal(units(m.data.volume) - units(previous.data.volume), between.reduce((a, x) => a + units(x.data.size), 0), 'volume');
      if (between.length > 0) t.equal(m.data.close, between[between.length - 1].data.price, 'close is the last trade');
      checked++;
    }
    previous = m;
  }
  t.ok(checked > 20, `${checked} consecutive candle updates checked against the trades`);
  c.ws.close();
});

t.test('throttled ticker and candles: at most one update per period, newest state', async (t) => {
  const srv = await market();
  const c = collect(srv.url);
  await c.opened;
  c.ws.send(JSON.stringify({ type: 'subscribe', channels: ['ticker', 'candles'], symbols: ['ETH/USD'], interval: '5m', throttle_ms: 500 }));
  await waitFor('six throttled tickers', () => c.messages.filter((m) => m.type === 'ticker').length >= 6);
  const tickers = c.messages.filter((m) => m.type === 'ticker');
  const seqs = tickers.map((m) => m.sequence!);
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'ticker sequences only move forward');
  // Conflated: the market moved many times a period, so some consecutive tickers skip states.
  // (How far apart they arrive depends on delivery, not only on the server: not asserted.)
  t.ok(seqs.slice(1).some((s, i) => s - seqs[i] > 1), 'intermediate states were conflated');
  const traded = tickers.filter((m) => m.data.last !== null).pop()!;
  t.match(traded.data, { volume_24h: /^\d+\.\d{4}$/, high_24h: /^\d+\.\d\d$/, low_24h: /^\d+\.\d\d$/, change_24h: /^-?\d+\.\d\d$/ });
  t.ok(c.messages.some((m) => m.type === 'candle' && m.data.interval === '5m'), '5m candles arrive');
  c.ws.send(JSON.stringify({ type: 'subscribe', channels: ['candles'], symbols: ['ETH/USD'], interval: '7m' }));
  await waitFor('an error', () => c.messages.some((m) => m.type === 'error'));
  t.equal(c.messages.find((m) => m.type === 'error')!.data.code, 'INVALID_INTERVAL');
  c.ws.send(JSON.stringify({ type: 'subscribe', channels: ['ticker'], symbols: ['ETH/USD'], throttle_ms: 333 }));
  await waitFor('a second error', () => c.messages.filter((m) => m.type === 'error').length === 2);
  t.equal(c.messages.filter((m) => m.type === 'error')[1].data.code, 'INVALID_PARAMETER');
  c.ws.close();
});

t.test('REST candles: parameters and shape', async (t) => {
  const srv = await market();
  const ok = await srv.get('/api/v1/market/BTC-USD/candles?interval=1h&start=2026-01-01T00:00:00Z&limit=10');
  t.equal(ok.status, 200);
  t.match(ok.body, { symbol: 'BTC/USD', interval: '1h', count: Number, candles: Array });
  const cases: [string, number, string][] = [
    ['/api/v1/market/BTC-USD/candles?interval=2m', 400, 'INVALID_INTERVAL'],
    ['/api/v1/market/BTC-USD/candles?start=2026-02-01T00:00:00Z&end=2026-01-01T00:00:00Z', 400, 'INVALID_PARAMETER'],
    ['/api/v1/market/BTC-USD/candles?start=yesterday', 400, 'INVALID_PARAMETER'],
    ['/api/v1/market/BTC-USD/candles?limit=0', 400, 'INVALID_PARAMETER'],
    ['/api/v1/market/BTC-USD/candles?colour=red', 400, 'INVALID_PARAMETER'],
    ['/api/v1/market/NOPE/candles', 404, 'UNKNOWN_SYMBOL'],
  ];
  for (const [path, status, code] of cases) {
    const r = await srv.get(path);
    t.equal(r.status, status, path);
    t.equal(r.body.error.code, code, path);
  }
});
