import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { loadAverage } from '../system';
import { ratio } from './child-processes';
import { CeilingResult, requestCeiling } from './closed-loop-http';
import { runWrk, wrkAvailable, WrkResult } from './wrk';
import { DataDir } from './data-dir';
import { point, PointResult, RunningServer, Target } from './rest-open-loop';
import { ServerProcess } from './server-process';
import { runStandalone } from '../standalone';

/**
 * AuthOverhead: what access control adds to a REST request, open loop, one server, one run.
 * The same order book request (`orderbook?depth=20`, an `l2` route) three ways:
 *
 *   anonymous   no credential: the public tier, an address lookup in an LRU
 *   api key     X-API-Key of an internal-tier client: LRU hit on the key text, then status checks
 *   bearer      Authorization: Bearer <EdDSA JWT>: LRU hit on the token, then expiry check
 *
 * Every credential is verified once before the measurement (the first request fills the
 * caches), so the figures are the steady state a client sees: the cost of a cache miss (an HMAC
 * and a database read for a key, an Ed25519 verification for a token) is paid once per process
 * and cache period, not per request. The three targets take turns at each rate (anonymous, key,
 * bearer, then the next rate), so a change of machine load hits them alike. Reported: the open
 * loop's p50/p99/p99.9 per target and rate, and the p99 (and p50) each credential adds over
 * anonymous at the same rate, with their ratios. Load clients, schedule and latency definition
 * are rest-open-loop's (2 processes × 16 keep-alive connections, latency from the intended send
 * time to the answer's last byte).
 *
 * Then the most each target answers per second, in turns again: wrk's closed loop when
 * /usr/bin/wrk is installed (with the credential as a header), and closed-loop-http.ts's
 * keep-alive client always, so the "key at least 90% of anonymous requests/s" figure exists on
 * every machine. `ceilingRatio`: key (or bearer) over anonymous, within the run.
 */

/** Keep-alive connections of the closed-loop ceilings (wrk's -c, and the Node client's sockets). */
const CEILING_CONNECTIONS = 32;
const QUICK_RATES = [2_000, 5_000];
const FULL_RATES = [2_000, 5_000, 10_000, 20_000];
const START_TIMEOUT_MS = 300_000;
const BOOKCAST_ARGS = ['--port', '0', '--symbols', 'BTC/USD', '--rate', '500', '--workers', '1', '--auth', 'optional', '--auth-token-ttl', '86400'];
const ORDER_BOOK_PATH = '/api/v1/market/BTC-USD/orderbook?depth=20';
const MAIN = path.join(__dirname, '..', '..', 'src', 'main.js');

/**
 * An internal-tier client and key made with the CLI in the data directory, before the server holds
 * it. Internal (10,000 requests/s, burst 20,000): a lower tier's budget (professional: 200/s) would
 * answer most of the load with 429 and measure refusals against anonymous answers. The key and the
 * bearer token each get a client of their own: sharing one, the second credential's closed-loop
 * ceiling ran into the budget the first had spent (429s counted against it).
 */
function makeKey(dataDir: DataDir, name: string): string {
  const run = (args: string[]) => JSON.parse(execFileSync(process.execPath, [MAIN, ...args, '--json', ...dataDir.args], { encoding: 'utf8' }).trim().split('\n').pop()!);
  const client = run(['clients', 'create', '--name', name, '--tier', 'internal']);
  return run(['keys', 'create', '--client', client.client_id]).api_key as string;
}

async function ok(server: RunningServer, headers: Record<string, string>): Promise<void> {
  const res = await fetch(`http://${server.host}:${server.port}${ORDER_BOOK_PATH}`, { headers });
  if (res.status !== 200) throw new Error(`warm-up request answered ${res.status}: ${await res.text()}`);
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const rates = opts.full ? FULL_RATES : QUICK_RATES;
  const dataDir = new DataDir();
  let process_: ServerProcess | null = null;
  const guard = () => process_?.killNow();
  process.on('exit', guard);
  try {
    const apiKey = makeKey(dataDir, 'bench-key');
    const tokenKey = makeKey(dataDir, 'bench-token');
    process_ = await ServerProcess.start([...BOOKCAST_ARGS, ...dataDir.args], START_TIMEOUT_MS);
    const server: RunningServer = { host: process_.host, port: process_.port, pid: process_.pid, stop: () => process_!.stop(), killNow: () => process_!.killNow() };
    const grant = await fetch(`http://${server.host}:${server.port}/api/v1/auth/token`, { method: 'POST', body: JSON.stringify({ grant_type: 'api_key', api_key: tokenKey }) });
    const token = ((await grant.json()) as { access_token: string }).access_token;
    await ok(server, {});
    await ok(server, { 'x-api-key': apiKey });
    await ok(server, { authorization: `Bearer ${token}` });
    const targets: Target[] = [
      { name: 'anonymous', server: 'bookcast', path: ORDER_BOOK_PATH },
      { name: 'api key', server: 'bookcast', path: ORDER_BOOK_PATH, headers: `X-API-Key: ${apiKey}\r\n` },
      { name: 'bearer token', server: 'bookcast', path: ORDER_BOOK_PATH, headers: `Authorization: Bearer ${token}\r\n` },
    ];
    const points: (PointResult | { target: string; offered: number; error: string })[] = [];
    for (const rate of rates) {
      for (const target of targets) {
        try {
          points.push(await point(server, target, rate, opts.seconds));
        } catch (err) {
          points.push({ target: target.name, offered: rate, error: (err as Error).message });
        }
      }
    }
    // Ceilings: what each target answers at most, closed loop, in turns.
    const ceilings: Record<string, { node: CeilingResult; wrk: WrkResult | { skipped: string } | { error: string } }> = {};
    for (const target of targets) {
      const headers = target.headers === undefined ? {} : Object.fromEntries([target.headers.trim().split(': ')]);
      const url = `http://${server.host}:${server.port}${ORDER_BOOK_PATH}`;
      const node = await requestCeiling(url, headers, CEILING_CONNECTIONS, opts.seconds);
      let wrk: WrkResult | { skipped: string } | { error: string } = { skipped: '/usr/bin/wrk is not installed (Debian package wrk)' };
      if (wrkAvailable()) {
        try {
          wrk = await runWrk(url, opts.seconds, CEILING_CONNECTIONS, target.headers === undefined ? [] : [target.headers.trim()]);
        } catch (err) {
          wrk = { error: (err as Error).message };
        }
      }
      ceilings[target.name] = { node, wrk };
    }
    // Answers that were not 2xx (a 429, say) are not served requests: the ratio counts 2xx only.
    const wrkRate = (name: string) => {
      const w = ceilings[name]?.wrk;
      return w !== undefined && 'requestsPerSecond' in w ? w.requestsPerSecond * (1 - w.non2xx / Math.max(1, w.requests)) : null;
    };
    const ceilingRatio = Object.fromEntries(
      ['api key', 'bearer token'].map((name) => [name, { node: ratio(ceilings[name]?.node.perSecond, ceilings.anonymous?.node.perSecond), wrk: ratio(wrkRate(name), wrkRate('anonymous')) }]),
    );
    const at = (name: string, rate: number) => points.find((p): p is PointResult => p.target === name && p.offered === rate && !('error' in p));
    const added = rates.map((rate) => {
      const anon = at('anonymous', rate);
      const row: Record<string, unknown> = { offered: rate };
      for (const name of ['api key', 'bearer token']) {
        const mine = at(name, rate);
        const diff = (f: 'p50' | 'p99') => (anon?.[f] == null || mine?.[f] == null ? null : mine[f]! - anon[f]!);
        row[name] = {
          p50AddedUs: diff('p50'),
          p99AddedUs: diff('p99'),
          p99Ratio: ratio(mine?.p99 ?? undefined, anon?.p99 ?? undefined),
          achievedRatio: ratio(mine?.achieved, anon?.achieved),
          serverCpuPerRequestRatio: ratio(mine?.serverCpuUsPerRequest ?? undefined, anon?.serverCpuUsPerRequest ?? undefined),
        };
      }
      return row;
    });
    return {
      name: 'AuthOverhead',
      unit: 'µs from intended send time to the answer, open loop',
      bookcastArgs: BOOKCAST_ARGS.join(' '),
      request: `GET ${ORDER_BOOK_PATH}`,
      loadAverageEnd: loadAverage(),
      points,
      added,
      ceilingConnections: CEILING_CONNECTIONS,
      ceilings,
      ceilingRatio,
    };
  } finally {
    await process_?.stop();
    process.off('exit', guard);
    dataDir.remove();
  }
}

if (require.main === module) runStandalone(run, 3);
