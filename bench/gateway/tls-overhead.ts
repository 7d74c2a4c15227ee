import { loadAverage } from '../system';
import { makeTestCa } from '../../test/helpers/test-ca';
import { ratio } from './child-processes';
import { CeilingResult, connectCeiling, requestCeiling } from './closed-loop-http';
import { ServerProcess } from './server-process';
import { runStandalone } from '../standalone';

/**
 * TlsOverhead: what `--tls-cert`/`--tls-key` (uWS's SSL app, TLS 1.3 only) cost against plain
 * HTTP, two servers in one run, the same arguments but the certificate:
 *
 *   handshakes   new connections per second, each closed once established: TCP connects to the
 *                plain server, full TLS 1.3 handshakes (ECDSA P-256 certificate from a throwaway
 *                CA, no session resumption) to the TLS one
 *   throughput   keep-alive GETs of `orderbook?depth=20` and of a 500-level book: answers and bytes per second
 *
 * Closed-loop ceilings from one client process (closed-loop-http.ts): compare the two servers as
 * ratios, taken in turns (plain, then TLS, per figure) so machine load hits both alike.
 */

const CONNECTIONS = 16;
const START_TIMEOUT_MS = 300_000;
const ARGS = ['--port', '0', '--symbols', 'BTC/USD', '--rate', '500', '--workers', '1', '--usage-accounting', 'false'];
const PATHS = ['/api/v1/market/BTC-USD/orderbook?depth=20', '/api/v1/market/BTC-USD/orderbook?depth=500'];

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const ca = makeTestCa();
  const servers: ServerProcess[] = [];
  const guard = () => servers.forEach((s) => s.killNow());
  process.on('exit', guard);
  try {
    const plain = await ServerProcess.start([...ARGS, '--data-dir', `${ca.dir}/plain`], START_TIMEOUT_MS);
    servers.push(plain);
    const secure = await ServerProcess.start([...ARGS, '--data-dir', `${ca.dir}/tls`, '--tls-cert', ca.cert, '--tls-key', ca.key], START_TIMEOUT_MS);
    servers.push(secure);
    const pair = async (measure: (tlsOn: boolean) => Promise<CeilingResult>) => {
      const p = await measure(false);
      const t = await measure(true);
      return { plain: p, tls: t, perSecondRatio: ratio(t.perSecond, p.perSecond), p99Ratio: ratio(t.p99, p.p99) };
    };
    const handshakes = await pair((on) => (on ? connectCeiling(secure.host, secure.port, CONNECTIONS, opts.seconds, ca.ca) : connectCeiling(plain.host, plain.port, CONNECTIONS, opts.seconds)));
    const throughput: Record<string, unknown> = {};
    for (const path of PATHS) {
      throughput[path] = await pair((on) =>
        on ? requestCeiling(`https://${secure.host}:${secure.port}${path}`, {}, CONNECTIONS, opts.seconds, ca.ca) : requestCeiling(`http://${plain.host}:${plain.port}${path}`, {}, CONNECTIONS, opts.seconds),
      );
    }
    return {
      name: 'TlsOverhead',
      unit: 'closed loop from one client process; latencies in µs (not open-loop)',
      bookcastArgs: ARGS.join(' '),
      connections: CONNECTIONS,
      loadAverageEnd: loadAverage(),
      handshakes,
      throughput,
    };
  } finally {
    for (const s of servers) await s.stop();
    process.off('exit', guard);
    ca.remove();
  }
}

if (require.main === module) runStandalone(run, 3);
