import t from 'tap';
import WebSocket from 'ws';
import { connectRecorded } from '../helpers/client-recorder';
import { startTestServer } from '../helpers/test-server';
import { closeOf, nextJson, openSocket } from '../helpers/ws-connect';

t.test('hostile WebSocket messages get coded errors and the connection stays usable', async (t) => {
  const srv = await startTestServer(['--rate', '500', '--max-message-bytes', '1024', '--max-messages-per-second', '40']);
  t.teardown(() => srv.server.stop());
  // A raw socket: the SDK sends only well-formed requests.
  const ws = await openSocket(`${srv.url}/ws`);
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
    const reply = nextJson(ws, (m) => m.type === 'error');
    ws.send(message);
    const error = await reply;
    t.equal(error.data.code, code, `${String(message).slice(0, 60)} → ${code}`);
    t.type(error.data.message, 'string');
  }
  // Still usable: a valid subscription works after all of that.
  const pong = nextJson(ws, (m) => m.type === 'pong');
  ws.send(JSON.stringify({ type: 'ping', id: 7 }));
  t.equal((await pong).id, 7);
  const snapshot = nextJson(ws, (m) => m.type === 'l2_snapshot');
  ws.send(JSON.stringify({ type: 'subscribe', channels: ['l2'], symbols: ['BTC-USD'], depth: 10 }));
  t.equal((await snapshot).symbol, 'BTC/USD');
  ws.close();
});

t.test('a flood is rate limited with an error, then the connection is closed cleanly', async (t) => {
  const srv = await startTestServer(['--rate', '200', '--max-messages-per-second', '20']);
  t.teardown(() => srv.server.stop());
  // Through the SDK: a refusal is its `refused` event, the close its `close` event.
  const flooder = await connectRecorded(srv);
  const limited = flooder.next((m) => m.type === 'error' && m.data?.code === 'RATE_LIMITED');
  const closed = new Promise<number>((resolve) => flooder.client.once('close', (code) => resolve(code)));
  for (let i = 0; i < 400; i++) flooder.client.subscribe({ channels: ['ticker'], symbols: ['BTC/USD'] });
  t.ok(await limited, 'RATE_LIMITED error');
  t.equal(await closed, 1008, 'closed with policy violation');
  // The server is unharmed.
  const other = await connectRecorded(srv);
  const subscribed = other.next((m) => m.type === 'subscribed');
  other.client.subscribe({ channels: ['ticker'], symbols: ['BTC/USD'] });
  t.ok(await subscribed);
  other.client.close();
});

t.test('a message beyond the hard payload limit closes only that connection', async (t) => {
  const srv = await startTestServer(['--rate', '200', '--max-message-bytes', '256']);
  t.teardown(() => srv.server.stop());
  const ws = await openSocket(`${srv.url}/ws`);
  const closed = closeOf(ws);
  ws.send('x'.repeat(256 * 16 + 1));
  t.equal((await closed).code, 1009, 'closed with 1009 (message too big), a close frame, not a dropped connection');
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
