import { Histogram, Registry } from 'prom-client';
import { runStandalone } from '../standalone';
import { RequestDurations } from '../../src/metrics/request-durations';
import { measure } from './per-call-cost';

/**
 * RequestObserver: what the REST metrics add to every answer on the front thread, one
 * observation of bookcast_http_request_duration_seconds (route pattern, status, seconds), CPU ns
 * and heap bytes per answer, in one thread:
 *   prom-client Histogram  observe({ route, status: String(status) }, seconds), as until 2026-12-04
 *   RequestDurations       observe(route, status, seconds) (src/metrics/request-durations.ts)
 * over answers cycling through 4 routes and 3 statuses, times spread over the buckets.
 */

const ROUTES = ['/api/v1/market/:symbol/orderbook', '/api/v1/market/:symbol/ticker', '/api/v1/market-data/:symbol/latest', '/api/v1/market/:symbol/trades'];
const STATUSES = [200, 200, 200, 404, 429];
const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
const TIMES = [0.00004, 0.00012, 0.0007, 0.0031, 0.02];

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const histogram = new Histogram({ name: 'h', help: 'h', labelNames: ['route', 'status'], buckets: BOUNDS, registers: [new Registry()] });
  const durations = new RequestDurations('d', 'd', BOUNDS);
  let n = 0;
  const each = opts.seconds / 2;
  const promClient = measure(() => {
    n++;
    histogram.observe({ route: ROUTES[n & 3], status: String(STATUSES[n % 5]) }, TIMES[n % 5]);
  }, each);
  const ours = measure(() => {
    n++;
    durations.observe(ROUTES[n & 3], STATUSES[n % 5], TIMES[n % 5]);
  }, each);
  return {
    name: 'RequestObserver',
    unit: 'CPU ns and heap bytes per REST answer observed, one thread',
    results: [
      { scenario: 'prom-client Histogram', ...promClient },
      { scenario: 'RequestDurations', ...ours },
    ],
  };
}

if (require.main === module) runStandalone(run, 4);
