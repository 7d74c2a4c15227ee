import t from 'tap';
import type { CandleMessage } from '../../src/client';
import { connectRecorded } from '../helpers/client-recorder';
import { startTestServer, waitFor } from '../helpers/test-server';
import { nextJson, openSocket } from '../helpers/ws-connect';

t.test('the Market Data API stream dialect: SUBSCRIBE, DATA in sequence, HEARTBEAT, ERROR', async (t) => {
  // A modest rate: the client shares this process with the server, and a starved one is parked as a
  // slow consumer (at 3000, beside a second suite, no candle came in 180 s).
  const srv = await startTestServer(['--rate', '1000', '--workers', '2']);
  t.teardown(() => srv.server.stop());
  const [md, feed] = await Promise.all([connectRecorded(srv, { dialect: 'market-data' }), connectRecorded(srv)]);
  // The frames as they came, envelopes and all (the SDK unwraps them for its books).
  const frames: any[] = [];
  md.client.on('message', (_m, frame) => frames.push(JSON.parse(frame.toString())));
  const ack = md.next((m) => m.type === 'subscribed');
  md.client.subscribe({ channels: ['trades', 'ticker', 'l2'], symbols: ['BTC/USD', 'ETH-USD'], depth: 10 });
  t.match(await ack, { id: 'r1', data: { status: 'subscribed', symbols: ['BTC/USD', 'ETH/USD'], data_types: ['TRADE', 'QUOTE', 'ORDERBOOK'] } });
  t.match(frames.find((f) => f.type === 'SUBSCRIBE'), { request_id: 'r1', payload: { status: 'subscribed' } }, 'the reply as sent: SUBSCRIBE with the request_id');
  feed.client.subscribe({ channels: ['l2'], symbols: ['BTC/USD'], depth: 10 });

  await waitFor('books, quotes and trades in both dialects', () =>
    ['BTC/USD', 'ETH/USD'].every((s) => md.stream(`l2 ${s}`).updates > 30 && md.tickers.has(s) && (md.tradeIds.get(s)?.length ?? 0) > 0) && feed.stream('l2 BTC/USD').updates > 30,
  );
  t.same(md.resyncs, [], 'every sequence and checksum verified through the DATA envelope');
  t.same(feed.resyncs, []);

  const data = frames.filter((m) => m.type === 'DATA');
  t.ok(data.length > 0);
  for (const m of data.slice(0, 50)) {
    t.match(m, { type: 'DATA', timestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, payload: { symbol: String, data_type: /^(TRADE|QUOTE|ORDERBOOK)$/, data: Object } });
    t.equal(m.timestamp, m.payload.timestamp);
  }
  // Both dialects follow one stream: the same sequence carries the same book in both.
  const mdBook = md.stream('l2 BTC/USD');
  const feedBook = feed.stream('l2 BTC/USD');
  const inBoth = () => [...feedBook.states.keys()].filter((seq) => mdBook.states.has(seq));
  await waitFor('ten sequences seen by both', () => inBoth().length >= 10);
  for (const seq of inBoth()) t.equal(mdBook.states.get(seq), feedBook.states.get(seq), `book at ${seq}`);

  const candles: CandleMessage[] = [];
  md.client.on('candle', (m) => candles.push(m));
  const candlesAck = md.next((m) => m.type === 'subscribed' && m.id === 'r2');
  md.client.subscribe({ channels: ['candles'], symbols: ['BTC/USD'], interval: '15m' });
  await candlesAck;
  await waitFor('an OHLC update', () => candles.length > 0);
  t.match(candles[0], { type: 'candle', symbol: 'BTC/USD', data: { interval: '15m', final: false } });
  t.match(frames.find((f) => f.type === 'DATA' && f.payload.data_type === 'OHLC'), { payload: { type: 'candle' } }, 'sent as OHLC');

  // What the SDK never sends: a HEARTBEAT request, and malformed requests. A raw socket.
  const raw = await openSocket(`${srv.url}/api/v1/market-data/stream`);
  t.teardown(() => raw.close());
  // The reply comes before the snapshot: the heartbeat names a sequence once the book has been sent.
  const book = nextJson(raw, (m) => m.type === 'DATA' && m.payload.data_type === 'ORDERBOOK');
  raw.send(JSON.stringify({ type: 'SUBSCRIBE', request_id: 's1', payload: { symbols: ['BTC/USD'], data_types: ['ORDERBOOK'], filters: { depth: 10 } } }));
  await book;
  const hb = nextJson(raw, (m) => m.type === 'HEARTBEAT' && m.request_id === 'hb');
  raw.send(JSON.stringify({ type: 'HEARTBEAT', request_id: 'hb' }));
  t.ok((await hb).payload.subscriptions.some((s: any) => s.channel === 'ORDERBOOK' && s.symbol === 'BTC/USD' && s.sequence > 0));

  const errors: [unknown, string][] = [
    [{ type: 'SUBSCRIBE', request_id: 'e1', payload: { symbols: ['BTC/USD'], data_types: ['CANDLES!'] } }, 'UNKNOWN_CHANNEL'],
    [{ type: 'SUBSCRIBE', request_id: 'e2', payload: { symbols: ['NOPE'], data_types: ['TRADE'] } }, 'UNKNOWN_SYMBOL'],
    [{ type: 'SUBSCRIBE', request_id: 'e3', payload: { symbols: ['BTC/USD'], data_types: ['ORDERBOOK'], filters: { depth: 3 } } }, 'INVALID_DEPTH'],
    [{ type: 'SUBSCRIBE', request_id: 'e4', payload: [] }, 'INVALID_MESSAGE'],
    [{ type: 'subscribe', request_id: 'e5' }, 'UNKNOWN_TYPE'],
    ['{oops', 'INVALID_JSON'],
  ];
  for (const [message, code] of errors) {
    const reply = nextJson(raw, (m) => m.type === 'ERROR');
    raw.send(typeof message === 'string' ? message : JSON.stringify(message));
    const err = await reply;
    t.equal(err.payload.code, code, code);
    if (typeof message === 'object') t.equal(err.request_id, (message as any).request_id);
  }

  const unsubscribed = md.next((m) => m.type === 'unsubscribed' && m.id === 'r3');
  md.client.unsubscribe({ channels: ['l2'], symbols: ['BTC/USD'] });
  await unsubscribed;
  const before = mdBook.updates;
  const eth = md.stream('l2 ETH/USD');
  const ethBefore = eth.updates;
  await waitFor('ETH/USD to move on', () => eth.updates > ethBefore + 10);
  t.equal(mdBook.updates, before, 'no BTC/USD book after UNSUBSCRIBE');
  md.client.close();
  feed.client.close();
});
