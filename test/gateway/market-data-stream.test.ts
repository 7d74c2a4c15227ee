import t from 'tap';
import { BookClient } from '../helpers/book-client';
import { startTestServer, waitFor } from '../helpers/test-server';

t.test('the Market Data API stream dialect: SUBSCRIBE, DATA in sequence, HEARTBEAT, ERROR', async (t) => {
  const srv = await startTestServer(['--rate', '3000', '--workers', '2']);
  t.teardown(() => srv.server.stop());
  const md = new BookClient(srv.url, 'market-data', srv.symbols);
  const feed = new BookClient(srv.url, 'json', srv.symbols);
  await Promise.all([md.opened(), feed.opened()]);
  md.keepAll = true;
  md.send({ type: 'SUBSCRIBE', request_id: 'r1', payload: { symbols: ['BTC/USD', 'ETH-USD'], data_types: ['TRADE', 'QUOTE', 'ORDERBOOK'], filters: { depth: 10 } } });
  const ack = await md.next((m) => m.type === 'SUBSCRIBE');
  t.match(ack, { request_id: 'r1', payload: { status: 'subscribed', symbols: ['BTC/USD', 'ETH/USD'], data_types: ['TRADE', 'QUOTE', 'ORDERBOOK'] } });
  feed.send({ type: 'subscribe', channels: ['l2'], symbols: ['BTC/USD'], depth: 10 });

  await waitFor('books, quotes and trades in both dialects', () =>
    ['BTC/USD', 'ETH/USD'].every((s) => (md.l2.get(s)?.check.messages ?? 0) > 30 && md.tickers.has(s) && (md.trades.get(s) ?? []).length > 0) &&
    (feed.l2.get('BTC/USD')?.check.messages ?? 0) > 30,
  );
  t.same(md.failures, [], 'every sequence and checksum verified through the DATA envelope');
  t.same(feed.failures, []);

  const data = md.all.filter((m: any) => m.type === 'DATA') as any[];
  t.ok(data.length > 0);
  for (const m of data.slice(0, 50)) {
    t.match(m, { type: 'DATA', timestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, payload: { symbol: String, data_type: /^(TRADE|QUOTE|ORDERBOOK)$/, data: Object } });
    t.equal(m.timestamp, m.payload.timestamp);
  }
  // Both dialects follow one stream: the same sequence carries the same book in both.
  const mdBook = md.l2.get('BTC/USD')!;
  const feedBook = feed.l2.get('BTC/USD')!;
  const inBoth = () => [...feedBook.history.keys()].filter((seq) => mdBook.history.has(seq));
  await waitFor('ten sequences seen by both', () => inBoth().length >= 10);
  const common = inBoth();
  for (const seq of common) t.equal(mdBook.history.get(seq), feedBook.history.get(seq), `book at ${seq}`);

  md.send({ type: 'SUBSCRIBE', request_id: 'c1', payload: { symbols: ['BTC/USD'], data_types: ['OHLC'], filters: { interval: '15m' } } });
  await md.next((m) => m.type === 'SUBSCRIBE' && (m as any).request_id === 'c1');
  await waitFor('an OHLC update', () => md.all.some((m: any) => m.type === 'DATA' && m.payload.data_type === 'OHLC'));
  const ohlc = md.all.find((m: any) => m.type === 'DATA' && m.payload.data_type === 'OHLC') as any;
  t.match(ohlc.payload, { type: 'candle', symbol: 'BTC/USD', data: { interval: '15m', final: false } });

  md.send({ type: 'HEARTBEAT', request_id: 'hb' });
  const hb = await md.next((m) => m.type === 'HEARTBEAT' && (m as any).request_id === 'hb');
  t.ok((hb as any).payload.subscriptions.some((s: any) => s.channel === 'ORDERBOOK' && s.symbol === 'BTC/USD' && s.sequence > 0));

  const errors: [unknown, string][] = [
    [{ type: 'SUBSCRIBE', request_id: 'e1', payload: { symbols: ['BTC/USD'], data_types: ['CANDLES!'] } }, 'UNKNOWN_CHANNEL'],
    [{ type: 'SUBSCRIBE', request_id: 'e2', payload: { symbols: ['NOPE'], data_types: ['TRADE'] } }, 'UNKNOWN_SYMBOL'],
    [{ type: 'SUBSCRIBE', request_id: 'e3', payload: { symbols: ['BTC/USD'], data_types: ['ORDERBOOK'], filters: { depth: 3 } } }, 'INVALID_DEPTH'],
    [{ type: 'SUBSCRIBE', request_id: 'e4', payload: [] }, 'INVALID_MESSAGE'],
    [{ type: 'subscribe', request_id: 'e5' }, 'UNKNOWN_TYPE'],
    ['{oops', 'INVALID_JSON'],
  ];
  for (const [message, code] of errors) {
    md.send(message);
    const err = (await md.next((m) => m.type === 'ERROR')) as any;
    t.equal(err.payload.code, code, code);
    if (typeof message === 'object') t.equal(err.request_id, (message as any).request_id);
  }

  md.send({ type: 'UNSUBSCRIBE', request_id: 'u1', payload: { symbols: ['BTC/USD'], data_types: ['ORDERBOOK'] } });
  await md.next((m) => m.type === 'UNSUBSCRIBE' && (m as any).request_id === 'u1');
  const before = mdBook.check.messages;
  const eth = md.l2.get('ETH/USD')!.check.messages;
  await waitFor('ETH/USD to move on', () => md.l2.get('ETH/USD')!.check.messages > eth + 10);
  t.equal(mdBook.check.messages, before, 'no BTC/USD book after UNSUBSCRIBE');
  md.close();
  feed.close();
});
