import type { TemplatedApp } from 'uWebSockets.js';
import { route, sendJson } from '../gateway/http';
import type { AlertEvaluator } from './alert-evaluator';

/** `GET /api/v1/alerts`: every alert's state as of the last evaluation (README, "Alerts"). */
export function registerAlertsRoute(app: TemplatedApp, alerts: AlertEvaluator): void {
  route(app, 'get', '/api/v1/alerts', (res) => sendJson(res, 200, JSON.stringify(alerts.report())));
}
