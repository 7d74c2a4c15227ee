import t from 'tap';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { AnswerMeter, handlerReturned, meterOf, remoteAddress } from '../../src/gateway/answer-meter';
import type { RouteInfo } from '../../src/auth/caller';
import type { UsageRecord } from '../../src/store/store';

/** What a uWS response was asked to do: abort handlers registered, address reads, bytes ended with. */
class FakeResponse {
  abortHandlers: (() => void)[] = [];
  addressReads = 0;
  corks = 0;
  ended: unknown = null;

  cork(cb: () => void): this {
    this.corks++;
    cb();
    return this;
  }

  onAborted(handler: () => void): this {
    this.abortHandlers.push(handler);
    return this;
  }

  getRemoteAddress(): ArrayBuffer {
    this.addressReads++;
    return new Uint8Array([203, 0, 113, 7]).buffer;
  }

  writeStatus(): this {
    return this;
  }

  writeHeader(): this {
    return this;
  }

  end(body: unknown): this {
    this.ended = body;
    return this;
  }
}

const REQUEST = { getHeader: () => '' } as unknown as HttpRequest;
const ROUTE: RouteInfo = { method: 'GET', pattern: '/api/v1/market/:symbol/orderbook', permission: null };

function opened(): { fake: FakeResponse; res: HttpResponse; rows: UsageRecord[] } {
  const rows: UsageRecord[] = [];
  const app = {} as TemplatedApp;
  new AnswerMeter({ record: (row) => rows.push(row), sign: null }, '').install(app);
  const fake = new FakeResponse();
  const res = meterOf(app)!.opener(ROUTE)(fake as unknown as HttpResponse, REQUEST, performance.now());
  return { fake, res, rows };
}

t.test('an answer written before its handler returns registers no abort handler with uWS', async (t) => {
  const { fake, res, rows } = opened();
  const body = new TextEncoder().encode('{"a":"é"}');
  res.writeStatus('200 OK').end(body);
  handlerReturned(res);
  t.equal(fake.abortHandlers.length, 0, 'a synchronous answer cannot be aborted');
  t.equal(fake.ended, body, 'the bytes go to uWS as they are');
  t.equal(rows.length, 1);
  t.equal(rows[0].status, 200);
  t.equal(rows[0].responseBytes, body.byteLength, 'bytes counted, not characters');
});

t.test('an answer still pending when its handler returns is accounted as 499 if the client goes away', async (t) => {
  const { fake, res, rows } = opened();
  let routeHeard = 0;
  res.onAborted(() => routeHeard++);
  handlerReturned(res);
  t.equal(fake.abortHandlers.length, 1, 'one native registration, however many listen');
  fake.abortHandlers[0]();
  t.equal(routeHeard, 1, "the route's own abort handler is called");
  t.equal(rows.length, 1);
  t.equal(rows[0].status, 499);
});

t.test('a pending answer with no abort listener of its own still gets one once its handler returns', async (t) => {
  const { fake, res, rows } = opened();
  handlerReturned(res);
  t.equal(fake.abortHandlers.length, 1, 'uWS forbids returning unanswered without one');
  res.end('late');
  t.equal(rows.length, 1);
  t.equal(rows[0].status, 200);
  fake.abortHandlers[0]();
  t.equal(rows.length, 1, 'an answered request is accounted once');
});

t.test('the peer address is read from uWS once per request', async (t) => {
  const { fake, res, rows } = opened();
  t.equal(remoteAddress(res), '203.0.113.7');
  t.equal(remoteAddress(res), '203.0.113.7');
  res.end('{}');
  t.equal(fake.addressReads, 1, "admission takes the meter's copy");
  t.equal(rows[0].ip, '203.0.113.7');
});

t.test('a cork asked for inside the handler runs at once; after the handler returned, uWS corks', async (t) => {
  const { fake, res } = opened();
  let ran = 0;
  res.cork(() => ran++);
  t.equal(ran, 1, 'the callback ran');
  t.equal(fake.corks, 0, 'without a call into uWS: it already corks the socket around the handler');
  handlerReturned(res);
  res.cork(() => ran++);
  t.equal(ran, 2);
  t.equal(fake.corks, 1, 'an answer written later is corked by uWS');
});
