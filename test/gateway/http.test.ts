import t, { type Test } from 'tap';
import type { HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { loadUws } from '../../src/gateway/uws';
import { AnswerMeter } from '../../src/gateway/answer-meter';
import { intParameter, observeRequests, readQuery, RequestObserver, route, routeAsync, sendJson } from '../../src/gateway/http';
import { BookcastError } from '../../src/errors';
import type { UsageRecord } from '../../src/store/store';
import { waitFor } from '../helpers/test-server';

interface Observed {
  pattern: string;
  status: number;
  seconds: number;
  code: string | null;
}

/** A real uWS app on a free loopback port, metered and observed as the server's is. */
async function observedApp(t: Test, register: (app: TemplatedApp) => void): Promise<{ base: string; observed: Observed[]; rows: UsageRecord[] }> {
  const uws = loadUws();
  const app = uws.App();
  const observed: Observed[] = [];
  const rows: UsageRecord[] = [];
  const observer: RequestObserver = { answered: (pattern, status, seconds, code) => void observed.push({ pattern, status, seconds, code }) };
  new AnswerMeter({ record: (row) => rows.push(row), sign: null }, '').install(app);
  observeRequests(app, observer);
  register(app);
  const port = await new Promise<number>((resolve, reject) => {
    app.listen('127.0.0.1', 0, (socket) => {
      if (!socket) return reject(new Error('uWS could not listen'));
      t.teardown(() => uws.us_listen_socket_close(socket));
      resolve(uws.us_socket_local_port(socket));
    });
  });
  return { base: `http://127.0.0.1:${port}`, observed, rows };
}

t.test('every answer is observed once, under its own route, whether written in its handler or after it returned', async (t) => {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let heldStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (heldStarted = resolve));
  const { base, observed, rows } = await observedApp(t, (app) => {
    route(app, 'get', '/sync', (res) => sendJson(res, 200, '{"sync":true}'));
    route(app, 'get', '/refused', () => {
      throw new BookcastError('UNKNOWN_SYMBOL', 'no such symbol');
    });
    routeAsync(app, '/held', async () => {
      heldStarted();
      await held;
      return { status: 200, body: '{"held":true}' };
    });
  });

  // /held stays unanswered while two other requests are watched and answered after it.
  const heldAnswer = fetch(`${base}/held`);
  await started;
  t.equal((await fetch(`${base}/sync`)).status, 200);
  t.equal((await fetch(`${base}/refused`)).status, 404);
  t.same(observed.map((o) => [o.pattern, o.status, o.code]), [['/sync', 200, null], ['/refused', 404, 'UNKNOWN_SYMBOL']], 'the two synchronous answers, in order');
  release();
  const answer = await heldAnswer;
  t.same(await answer.json(), { held: true }, 'the held request is answered after its handler returned (corked by the meter)');
  t.equal(observed.length, 3, 'each request observed once');
  t.same([observed[2].pattern, observed[2].status, observed[2].code], ['/held', 200, null], 'the late answer is observed under its own route');
  t.ok(observed[2].seconds >= observed[0].seconds, 'and timed from its own start, which came before the others');
  t.same(rows.map((r) => [r.endpoint, r.status]), [['/sync', 200], ['/refused', 404], ['/held', 200]], 'one usage row each');
});

t.test('a request answered after another one was watched and answered is still observed', async (t) => {
  const pending: (() => void)[] = [];
  const { base, observed } = await observedApp(t, (app) => {
    routeAsync(app, '/later', () => new Promise((resolve) => pending.push(() => resolve({ status: 200, body: '{}' }))));
  });
  const answers = [fetch(`${base}/later`), fetch(`${base}/later`), fetch(`${base}/later`)];
  await waitFor('three handlers waiting at once', () => pending.length === 3, 60_000);
  t.equal(pending.length, 3, 'three handlers waiting at once');
  // Answered in reverse: the first two were set aside when the next one was watched.
  for (const answer of pending.reverse()) answer();
  for (const answer of answers) t.equal((await answer).status, 200);
  t.same(observed.map((o) => [o.pattern, o.status]), [['/later', 200], ['/later', 200], ['/later', 200]], 'all three observed');
});

t.test('readQuery reads a plain query as URLSearchParams does, and refuses the same queries', async (t) => {
  const request = (query: string) => ({ getQuery: () => query }) as unknown as HttpRequest;
  const allowed = ['depth', 'at', 'a', 'b', '', 'limit'];
  const read = (query: string): [string, string][] | string => {
    try {
      return [...readQuery(request(query), allowed)];
    } catch (err) {
      return (err as BookcastError).code;
    }
  };
  const reference = (query: string): [string, string][] | string => {
    const seen = new Map<string, string>();
    for (const [key, value] of new URLSearchParams(query)) {
      if (!allowed.includes(key) || seen.has(key)) return 'INVALID_PARAMETER';
      seen.set(key, value);
    }
    return [...seen];
  };
  const pieces = ['depth=20', 'depth', 'depth=', '=5', '&', '&&', 'at=1700000000000', 'a=b=c', 'limit=7', 'b=%20x', 'a+b=1', 'x=1', '?depth=3', 'b=é', 'a'];
  let cases = 0;
  for (const first of pieces) {
    for (const second of pieces) {
      for (const join of ['&', '']) {
        const query = `${first}${join}${second}`;
        t.same(read(query), reference(query), query);
        cases++;
      }
    }
  }
  t.equal(cases, pieces.length * pieces.length * 2);
  t.same(read('depth=20'), [['depth', '20']]);
  t.equal(read('depth=1&depth=2'), 'INVALID_PARAMETER', 'a key given twice');
  t.equal(read('nope=1'), 'INVALID_PARAMETER', 'an unknown key');
});

t.test('integer parameters: one to nine digits within the bounds, the default when absent', async (t) => {
  const depth = (value: string | undefined): number | string => {
    try {
      return intParameter(new Map(value === undefined ? [] : [['depth', value]]), 'depth', 1, 1000, 10);
    } catch (err) {
      return (err as BookcastError).code;
    }
  };
  t.equal(depth(undefined), 10, 'absent: the default');
  for (const [text, value] of [['1', 1], ['20', 20], ['1000', 1000], ['007', 7], ['000000001', 1]] as const) t.equal(depth(text), value, text);
  for (const text of ['', '0', '1001', '-1', '+5', '1.5', '1e3', ' 5', '5 ', '0x10', 'ten', '٣', '0000000001', '999999999999']) {
    t.equal(depth(text), 'INVALID_PARAMETER', JSON.stringify(text));
  }
});
