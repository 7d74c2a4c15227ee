import t from 'tap';
import WebSocket from 'ws';
import { BookClient } from '../helpers/book-client';
import { startTestServer } from '../helpers/test-server';

t.test('hostile WebSocket messages get coded errors and the connection stays usable', async (t) => {
  const srv = await startTestServer(['--rate', '500', '--max-message-bytes', '1024', '--max-messages-per-second', '40']);
  t.teardown(() => srv.server.stop());
  const client = new BookClient(srv.url, 'json', srv.symbols);
  await client.opened();
  const cases: [string | Buffer, string][] = [
    ['{not json', 'INVALID_JSON'],
    ['[]', 'INVALID_MESSAGE'],
    ['"subscribe"', 'INVALID_MESSAGE'],
    ['{"type":"hello"}', 'UNKNOWN_TYPE'],
    ['{"type":"subscribe","channels":["l2"],"symbols":["NOPE/USD"]}', 'UNKNOWN_SYMBOL'],
    ['{"type":"subscribe","channels":["l9"],"symbols":["BTC/USD"]}', 'UNKNOWN_CHANNEL'],
    ['{"type":"subscribe","channels":["l2"],"symbols":["BTC/USD"],"depth":7}', 'INVALID_DEPTH'],
    ['{"type":"subscribe","channels":["l2"],"symbols":["BTC/USD"],"depth":"10"}', 'INVALID_DEPTH'],
    ['{"type":"subscribe","channels":[],"symbols":["BTC/USD"]}', 'INVALID_MESSAGE'],
    ['{"type":"subscribe","channels":"l2","symbols":["BTC/USD"]}', 'INVALID_MESSAGE'],
    ['{"type":"subscribe","channels":["l2"],"symbols":[42]}', 'INVALID_MESSAGE'],
    ['{"type":"subscribe","channels":["l2"],"symbols":["BTC/USD"],"extra":1}', 'INVALID_MESSAGE'],
    ['{"type":"subscribe","channels":["l2"],"symbols":["BTC/USD"],"pad":"' + 'x'.repeat(2000) + '"}', 'MESSAGE_TOO_LARGE'],
    [Buffer.from([1, 2, 3, 4]), 'BINARY_NOT_ACCEPTED'],
    ['{"__proto__":{"type":"subscribe"}}', 'UNKNOWN_TYPE'],
  ];
  for (const [message, code] of cases) {
    const reply = client.next((m) => m.type === 'error');
    client.ws.send(message);
    const error = await reply;
    t.equal(error.data.code, code, `${String(message).slice(0, 60)} → ${code}`);
    t.type(error.data.message, 'string');
  }
  // Still usable: a valid subscription works after all of that.
  client.send({ type: 'ping', id: 7 });
  t.equal((await client.next((m) => m.type === 'pong')).id, 7);
  client.send({ type: 'subscribe', channels: ['l2'], symbols: ['BTC-USD'], depth: 10 });
  const snapshot = await client.next((m) => m.type === 'l2_snapshot');
  t.equal(snapshot.symbol, 'BTC/USD');
  t.same(client.failures, []);
  client.close();
});

t.test('a flood is rate limited with an error, then the connection is closed cleanly', async (t) => {
  const srv = await startTestServer(['--rate', '200', '--max-messages-per-second', '20']);
  t.teardown(() => srv.server.stop());
  const client = new BookClient(srv.url, 'json', srv.symbols);
  await client.opened();
  const limited = client.next((m) => m.type === 'error' && m.data.code === 'RATE_LIMITED');
  const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
  for (let i = 0; i < 400; i++) client.send({ type: 'ping', id: i });
  t.ok(await limited, 'RATE_LIMITED error');
  t.equal(await closed, 1008, 'closed with policy violation');
  // The server is unharmed.
  const other = new BookClient(srv.url, 'json', srv.symbols);
  await other.opened();
  other.send({ type: 'ping', id: 1 });
  t.ok(await other.next((m) => m.type === 'pong'));
  other.close();
});

t.test('a message beyond the hard payload limit closes only that connection', async (t) => {
  const srv = await startTestServer(['--rate', '200', '--max-message-bytes', '256']);
  t.teardown(() => srv.server.stop());
  const ws = new WebSocket(`${srv.url}/ws`);
  await new Promise((resolve) => ws.once('open', resolve));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.send('x'.repeat(256 * 16 + 1));
  t.equal(await closed, 1009, 'closed with 1009 (message too big), a close frame, not a dropped connection');
  t.equal((await srv.get('/api/v1/health')).status, 200, 'server still healthy');
});

t.test('REST rejects bad parameters with 400/404/405 and a coded JSON error', async (t) => {
  const srv = await startTestServer(['--rate', '200']);
  t.teardown(() => srv.server.stop());
  const cases: [string, number, string][] = [
    ['/api/v1/market/BTC-USD/orderbook?depth=0', 400, 'INVALID_PARAMETER'],
    ['/api/v1/market/BTC-USD/orderbook?depth=501', 400, 'INVALID_PARAMETER'],
    ['/api/v1/market/BTC-USD/orderbook?depth=abc', 400, 'INVALID_PARAMETER'],
    ['/api/v1/market/BTC-USD/orderbook?depth=1e3', 400, 'INVALID_PARAMETER'],
    ['/api/v1/market/BTC-USD/orderbook?depth=5&depth=6', 400, 'INVALID_PARAMETER'],
    ['/api/v1/market/BTC-USD/orderbook?levels=5', 400, 'INVALID_PARAMETER'],
    ['/api/v1/market/BTC-USD/trades?limit=-1', 400, 'INVALID_PARAMETER'],
    ['/api/v1/market/BTC-USD/trades?limit=1001', 400, 'INVALID_PARAMETER'],
    ['/api/v1/market/DOGE-USD/orderbook', 404, 'UNKNOWN_SYMBOL'],
    ['/api/v1/market/%E0%A4%A/ticker', 404, 'UNKNOWN_SYMBOL'],
    ['/api/v1/market/BTC-USD/nothing', 404, 'NOT_FOUND'],
    ['/nowhere', 404, 'NOT_FOUND'],
  ];
  for (const [path, status, code] of cases) {
    const res = await srv.get(path);
    t.equal(res.status, status, path);
    t.equal(res.body.error.code, code, path);
    t.type(res.body.error.message, 'string');
  }
  const post = await fetch(`${srv.http}/api/v1/market/BTC-USD/orderbook`, { method: 'POST', body: '{}' });
  t.equal(post.status, 405);
  t.equal(((await post.json()) as any).error.code, 'METHOD_NOT_ALLOWED');
  const ok = await srv.get('/api/v1/market/BTC%2FUSD/orderbook?depth=5');
  t.equal(ok.status, 200, 'BTC%2FUSD is accepted');
  t.ok(ok.body.bids.length <= 5);
  const refused = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${srv.url}/ws?format=xml`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
  t.equal(refused, 400, 'unknown WebSocket format is refused');
});
