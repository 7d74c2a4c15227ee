import t from 'tap';
import * as http from 'node:http';
import { HeavyWork } from '../../src/gateway/heavy-work';
import { ClientSlots } from '../../src/gateway/client-slots';
import { startTestServer, waitFor } from '../helpers/test-server';

/** A pool whose tasks finish only when the test says so. */
function controlledPool() {
  const started: number[] = [];
  const finish = new Map<number, () => void>();
  const run = (task: number) =>
    new Promise<number>((resolve) => {
      started.push(task);
      finish.set(task, () => resolve(task));
    });
  return { started, finish, run };
}

t.test('admission: per-client cap, bounded queue, abandoned waiting work never runs', async (t) => {
  const pool = controlledPool();
  const work = new HeavyWork<number, number>(pool.run, { concurrency: 1, maxQueued: 2 }, new ClientSlots());
  const never = new AbortController().signal;
  const a1 = work.submit('a', 2, 1, never);
  const a2 = work.submit('a', 2, 2, never);
  await t.rejects(work.submit('a', 2, 3, never), { code: 'TOO_MANY_HEAVY_REQUESTS' }, 'a third from the same client');
  const gone = new AbortController();
  const b4 = work.submit('b', 2, 4, gone.signal);
  await t.rejects(work.submit('c', 2, 5, never), { code: 'BUSY' }, 'the queue holds two');
  t.same(pool.started, [1]);
  gone.abort(new Error('client went away'));
  await t.rejects(b4, /client went away/);
  t.equal(work.counts.cancelled, 1);
  const c6 = work.submit('c', 2, 6, never);
  pool.finish.get(1)!();
  t.equal(await a1, 1);
  await waitFor('task 2 to start', () => pool.started.length === 2);
  pool.finish.get(2)!();
  t.equal(await a2, 2);
  await waitFor('task 6 to start', () => pool.started.length === 3);
  pool.finish.get(6)!();
  t.equal(await c6, 6);
  t.same(pool.started, [1, 2, 6], 'the abandoned task 4 never ran');
  await waitFor('the last task to be counted', () => work.active === 0);
  t.same(work.counts, { completed: 3, cancelled: 1, refused_busy: 1, refused_client: 1 });
  t.equal(work.queued + work.active, 0);
});

/** GET from a chosen loopback address (each is another client); resolves to the status, or -1 if aborted. */
function get(port: number, path: string, localAddress: string, abortAfterSend = false): Promise<{ status: number; retryAfter?: string; code?: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined, code: res.statusCode === 200 ? undefined : JSON.parse(text).error?.code }));
    });
    req.on('error', () => resolve({ status: -1 }));
    if (abortAfterSend) req.on('socket', (s) => s.on('connect', () => setImmediate(() => req.destroy())));
  });
}

t.test('orderbook?at=: coded refusals per client and when busy; abandoned requests are dropped', async (t) => {
  // Access control is not what this tests: under --auth off everyone may rebuild past books, and
  // --heavy-per-client is everyone's cap.
  const srv = await startTestServer(['--auth', 'off', '--symbols', 'BTC/USD', '--rate', '5000', '--heavy-per-client', '1', '--heavy-queue', '4']);
  t.teardown(() => srv.server.stop());
  await waitFor('events in the journal', async () => (await srv.get('/api/v1/health')).body.source.events >= 20_000, 120_000);
  const at = encodeURIComponent(new Date().toISOString());
  const path = `/api/v1/market/BTC-USD/orderbook?depth=5&at=${at}`;
  const port = srv.server.port;
  const ok = await get(port, path, '127.0.0.1');
  t.equal(ok.status, 200, 'one request alone is answered');

  // Bursts until each refusal has been seen once; a burst whose requests all finish before the
  // next arrives proves nothing either way, so it is repeated.
  let perClient: { status: number; retryAfter?: string; code?: string } | undefined;
  let busy: { status: number; retryAfter?: string; code?: string } | undefined;
  const deadline = Date.now() + 120_000;
  while ((perClient === undefined || busy === undefined) && Date.now() < deadline) {
    const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => get(port, path, `127.0.0.${2 + (i % 6)}`)));
    for (const r of burst) {
      t.ok(r.status === 200 || r.status === 429 || r.status === 503, `status ${r.status}`);
      if (r.status === 429) perClient ??= r;
      if (r.status === 503) busy ??= r;
    }
  }
  t.match(perClient, { code: 'TOO_MANY_HEAVY_REQUESTS', retryAfter: /^\d+$/ }, 'a second request from one address: 429');
  t.match(busy, { code: 'BUSY', retryAfter: /^\d+$/ }, 'past the queue: 503 BUSY with Retry-After');

  // Abandoned: clients that hang up right after sending; what still waits is never computed.
  const deadline2 = Date.now() + 120_000;
  let cancelled = 0;
  while (cancelled === 0 && Date.now() < deadline2) {
    await Promise.all(Array.from({ length: 6 }, (_, i) => get(port, path, `127.0.1.${2 + i}`, true)));
    await waitFor('the heavy queue to empty', async () => {
      const h = (await srv.get('/api/v1/health')).body.heavy_requests;
      return h.running === 0 && h.queued === 0;
    });
    cancelled = (await srv.get('/api/v1/health')).body.heavy_requests.cancelled;
  }
  t.ok(cancelled > 0, `abandoned waiting requests were dropped (${cancelled})`);
});
