import t from 'tap';
import { Histogram, type Metric, Registry } from 'prom-client';
import { RequestDurations } from '../../src/metrics/request-durations';

const NAME = 'bookcast_http_request_duration_seconds';
const HELP = 'REST requests by route pattern and status, and how long they took to answer';
const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** prom-client's own Histogram and RequestDurations, each in a registry of its own, fed the same answers. */
function pair(): { observe(route: string, status: number, seconds: number): void; texts(): Promise<[string, string]>; reset(): void } {
  const reference = new Registry();
  const ours = new Registry();
  const histogram = new Histogram({ name: NAME, help: HELP, labelNames: ['route', 'status'], buckets: BOUNDS, registers: [reference] });
  const durations = new RequestDurations(NAME, HELP, BOUNDS);
  ours.registerMetric(durations as unknown as Metric);
  return {
    observe(route, status, seconds) {
      histogram.observe({ route, status: String(status) }, seconds);
      durations.observe(route, status, seconds);
    },
    // Series come out in first-seen order in both, but grouped differently: compare the lines as a set.
    async texts() {
      const lines = async (r: Registry) => (await r.metrics()).split('\n').sort().join('\n');
      return [await lines(reference), await lines(ours)];
    },
    reset() {
      reference.resetMetrics();
      ours.resetMetrics();
    },
  };
}

t.test('exports exactly what prom-client\'s Histogram exports for the same answers', async (t) => {
  const p = pair();
  let [reference, ours] = await p.texts();
  t.equal(ours, reference, 'no answer yet: the family with no series');

  const routes = ['/api/v1/market/:symbol/orderbook', '/api/v1/market/:symbol/ticker', '/metrics', '/a "quoted" \\ route'];
  const statuses = [200, 404, 429, 503];
  // Every bound itself, just above it, zero, and beyond the last bound, over interleaved series.
  const times = [0, ...BOUNDS, ...BOUNDS.map((b) => b * 1.0001), 0.0001234, 37.5];
  let n = 0;
  for (const seconds of times) {
    for (let i = 0; i < 3; i++) {
      p.observe(routes[n % routes.length], statuses[(n * 7) % statuses.length], seconds);
      n++;
    }
  }
  [reference, ours] = await p.texts();
  t.ok(reference.includes('_bucket{le="+Inf"'), 'the reference has +Inf buckets to compare');
  t.equal(ours, reference, `${n} answers over ${routes.length * statuses.length} series`);

  p.reset();
  p.observe('/metrics', 200, 0.002);
  [reference, ours] = await p.texts();
  t.equal(ours, reference, 'after the registry resets its metrics');
});
