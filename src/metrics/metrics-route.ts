import type { TemplatedApp } from 'uWebSockets.js';
import { routeAsync } from '../gateway/http';
import type { ServerMetrics } from './server-metrics';

/** `GET /metrics`: the Prometheus text exposition, every family read at this moment. */
export function registerMetricsRoute(app: TemplatedApp, metrics: ServerMetrics): void {
  routeAsync(app, '/metrics', async () => ({ status: 200, body: await metrics.text(), contentType: metrics.contentType }));
}
