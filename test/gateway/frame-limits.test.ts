import t from 'tap';
import WebSocket from 'ws';
import { startTestServer, waitFor } from '../helpers/test-server';
import { closeOf, openSocket } from '../helpers/ws-connect';

const TOKEN = 'frames-test-token-0123456789';
const MAX_MESSAGE = 256;
const MAX_BATCH = 1024;

/** A text frame whose payload is not UTF-8, which the `ws` client would never send by itself. */
function sendRawText(ws: WebSocket, payload: Buffer): void {
  // The ws client's own frame encoder (not in its types), written past its UTF-8 checks.
  const frame: Uint8Array[] = (WebSocket as any).Sender.frame(payload, { fin: true, opcode: 1, mask: true, readOnly: false, rsv1: false });
  (ws as any)._socket.write(Buffer.concat(frame));
}

t.test('an oversized message is closed with 1009 and a reason on every WebSocket endpoint; the server runs on', async (t) => {
  const srv = await startTestServer(['--source', 'ingest', '--publisher-token', TOKEN, '--max-message-bytes', String(MAX_MESSAGE), '--ingest-max-batch-bytes', String(MAX_BATCH)]);
  t.teardown(() => srv.server.stop());
  const endpoints: [string, number][] = [
    [`${srv.url}/ws`, MAX_MESSAGE * 16],
    [`${srv.url}/api/v1/market-data/stream`, MAX_MESSAGE * 16],
    [`${srv.url}/ingest?session=s1&token=${TOKEN}`, MAX_BATCH * 2],
  ];
  for (const [url, answeredUpTo] of endpoints) {
    for (const size of [answeredUpTo + 1, answeredUpTo * 3]) {
      const ws = await openSocket(url);
      const closed = closeOf(ws);
      ws.send('x'.repeat(size));
      const { code, reason } = await closed;
      t.equal(code, 1009, `${url}: ${size} bytes closed with 1009`);
      t.match(reason, /^MESSAGE_TOO_LARGE/, 'the reason names the error code');
    }
  }
  // Over the limit but under 16× (2× for /ingest): a coded error, and the connection stays open.
  const publisher = await openSocket(`${srv.url}/ingest?session=s1&token=${TOKEN}`);
  const replies: any[] = [];
  publisher.on('message', (d: Buffer) => replies.push(JSON.parse(d.toString())));
  publisher.send('x'.repeat(MAX_BATCH + 1));
  publisher.send('{not json');
  await waitFor('both refusals', () => replies.filter((m) => m.type === 'error').length >= 2);
  t.same(replies.filter((m) => m.type === 'error').map((m) => m.code), ['MESSAGE_TOO_LARGE', 'INVALID_JSON'], '/ingest stays open after refused batches');
  publisher.close();
  t.equal((await srv.get('/api/v1/health')).status, 200, 'server healthy');
});

t.test('a text frame of invalid UTF-8 drops only that connection, on every endpoint', async (t) => {
  const srv = await startTestServer(['--source', 'ingest', '--publisher-token', TOKEN]);
  t.teardown(() => srv.server.stop());
  const bystander = await openSocket(`${srv.url}/ws`);
  const urls = [`${srv.url}/ws`, `${srv.url}/api/v1/market-data/stream`, `${srv.url}/ingest?session=s1&token=${TOKEN}`];
  for (const url of urls) {
    const ws = await openSocket(url);
    const closed = closeOf(ws);
    sendRawText(ws, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    // uWS checks UTF-8 before bookcast sees the message and drops the connection without a close
    // frame; the README says so (1006), and that binary frames carry arbitrary bytes.
    t.equal((await closed).code, 1006, `${url}: dropped`);
  }
  const pong = new Promise<any>((resolve) =>
    bystander.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'pong') resolve(m);
    }),
  );
  bystander.send(JSON.stringify({ type: 'ping', id: 1 }));
  t.equal((await pong).type, 'pong', 'another connection is unaffected');
  bystander.close();
  t.equal((await srv.get('/api/v1/health')).status, 200, 'server healthy');
});
