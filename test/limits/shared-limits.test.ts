import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { request, Reply } from '../helpers/http-request';
import { PrivateRedis } from '../helpers/private-redis';
import { ServerProcess, startServerProcess, stopServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/test-server';

/**
 * Two bookcast processes behind one Redis enforce one request budget together: over a burst
 * spread across both, exactly the budget is answered 200 and the rest 429. The budget is a day
 * window of 20 requests: an emission interval of 72 minutes, so no request can be refilled while
 * the test runs, whatever the load. Then Redis dies (a private redis-server, killed): every
 * process keeps enforcing the same budget on its own (exactly 20 each, no 5xx), and once Redis
 * is back both count in it together again.
 */
const BUDGET = 20;
const PATH = '/api/v1/market/symbols';

function tally(replies: Reply[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of replies) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

async function health(server: ServerProcess): Promise<any> {
  return JSON.parse((await request(server.http + '/api/v1/health')).body);
}

const available = PrivateRedis.available();
if (!available && process.env.CI === 'true') throw new Error('redis-server is required with CI=true');

t.test('two processes, one Redis: exactly the budget; Redis down: each process enforces it alone; Redis back: shared again', { skip: available ? false : 'redis-server is not installed' }, async (t) => {
  const redis = await PrivateRedis.create();
  t.teardown(() => redis.kill());
  const servers: ServerProcess[] = [];
  for (let i = 0; i < 2; i++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-limits-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    // A generous Redis timeout: a check answered locally because the machine was slow would
    // make the shared count inexact, and this test counts exactly.
    const server = await startServerProcess(['--data-dir', dir, '--source', 'none', '--symbols', 'BTC/USD', '--workers', '1', '--redis-url', redis.url, '--redis-timeout-ms', '20000', '--public-rate', `day=${BUDGET}`, '--health-details', 'all']);
    t.teardown(() => stopServerProcess(server));
    servers.push(server);
  }
  const shared = async () => (await Promise.all(servers.map(health))).every((h) => h.rate_limits.state === 'shared');
  await waitFor('both processes to count in Redis', shared);

  // Three times the budget, alternating between the processes, all at once.
  const burst = await Promise.all(Array.from({ length: 3 * BUDGET }, (_, i) => request(servers[i % 2].http + PATH, { from: '127.0.0.1' })));
  t.same(tally(burst), { 200: BUDGET, 429: 2 * BUDGET }, 'exactly the budget passes, over both processes together');
  const refused = burst.find((r) => r.status === 429)!;
  t.equal(JSON.parse(refused.body).error.code, 'RATE_LIMITED');
  t.match(refused.headers['retry-after'], /^\d+$/, 'Retry-After in seconds');
  t.ok(Number(refused.headers['retry-after']) > 60, 'a day window of 20 refills one request every 72 minutes');
  t.equal(refused.headers['ratelimit-policy'], `"day";q=${BUDGET};w=86400`);
  t.match(refused.headers['ratelimit'], /^"day";r=0;t=\d+$/);
  const passed = burst.find((r) => r.status === 200)!;
  t.match(passed.headers['ratelimit'], /^"day";r=\d+;t=\d+$/, 'successful answers carry the state too');
  for (const h of await Promise.all(servers.map(health))) t.equal(h.rate_limits.fallback_checks, 0, 'no check fell back to a local count');

  // A POST body arriving while the admission waits for Redis reaches the route intact.
  const bulk = await request(servers[0].http + '/api/v1/market-data/bulk', { method: 'POST', body: JSON.stringify({ symbols: ['BTC/USD', 'NOPE'] }), from: '127.0.0.5' });
  t.equal(bulk.status, 200, 'the bulk request is answered');
  t.same(Object.keys(JSON.parse(bulk.body).errors), ['NOPE'], 'the bulk body was read whole');

  // Redis dies. Each process answers from its own counts: the same budget, per process.
  await redis.kill();
  const alone = await Promise.all(servers.map((s) => Promise.all(Array.from({ length: BUDGET + 10 }, () => request(s.http + PATH, { from: '127.0.0.3' })))));
  for (const replies of alone) t.same(tally(replies), { 200: BUDGET, 429: 10 }, 'one process alone: its own count, the same budget, no 5xx');
  for (const h of await Promise.all(servers.map(health))) t.equal(h.rate_limits.state, 'local fallback');

  // Redis returns (empty: nothing persisted). Both count in it together again.
  await redis.start();
  await waitFor('both processes to count in Redis again', shared);
  const again = await Promise.all(Array.from({ length: 2 * BUDGET }, (_, i) => request(servers[i % 2].http + PATH, { from: '127.0.0.4' })));
  t.same(tally(again), { 200: BUDGET, 429: BUDGET }, 'shared again: exactly the budget over both');
});
