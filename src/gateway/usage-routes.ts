import type { TemplatedApp } from 'uWebSockets.js';
import { BookcastError } from '../errors';
import type { Persistence } from '../store/persistence';
import type { UsageSummaryRow } from '../store/store';
import { nowMicros } from '../util/clock';
import { formatTimestampMicros } from '../wire/timestamp';
import { readQuery, route, routeAsync, sendJson, timeParameter } from './http';

const DAY_US = 86_400_000_000;

/**
 * What a caller may learn about itself and about this server's integrity:
 *   GET /api/v1/usage        the caller's own usage (api_usage), per endpoint, method and status;
 *                            default the last 24 hours (`start`, `end` to choose)
 *   GET /api/v1/signing-key  the Ed25519 public key(s) that verify snapshot signatures, as a JWK set
 */
export class UsageRoutes {
  constructor(
    private readonly persistence: Persistence,
    /** The snapshot signer's JWK set; null when --sign-snapshots is off. */
    private readonly signingKeys: object | null,
    private readonly accounting: boolean,
  ) {}

  register(app: TemplatedApp): void {
    routeAsync(app, '/api/v1/usage', async (req, caller) => {
      const query = readQuery(req, ['start', 'end']);
      const now = nowMicros();
      const from = timeParameter(query, 'start', now - DAY_US);
      const to = timeParameter(query, 'end', now);
      if (from > to) throw new BookcastError('INVALID_PARAMETER', '"start" is after "end"');
      if (!this.accounting) throw new BookcastError('USAGE_DISABLED');
      const rows = await this.persistence.query<UsageSummaryRow[]>({ kind: 'usage', subject: caller.subject, from, to: to + 1 });
      let requests = 0;
      let errors = 0;
      let bytes = 0;
      for (const r of rows) {
        requests += r.requests;
        if (r.status >= 400) errors += r.requests;
        bytes += r.responseBytes;
      }
      const body = {
        subject: caller.subject,
        client_id: caller.clientId,
        tier: caller.tier,
        start: formatTimestampMicros(from),
        end: formatTimestampMicros(to),
        requests,
        errors,
        response_bytes: bytes,
        endpoints: rows.map((r) => ({
          endpoint: r.endpoint,
          method: r.method,
          status: r.status,
          requests: r.requests,
          avg_response_ms: Math.round((r.totalMs / r.requests) * 1000) / 1000,
          request_bytes: r.requestBytes,
          response_bytes: r.responseBytes,
          last: formatTimestampMicros(r.last),
        })),
      };
      return { status: 200, body: JSON.stringify(body) };
    });
    route(app, 'get', '/api/v1/signing-key', (res, req) => {
      readQuery(req, []);
      if (this.signingKeys === null) throw new BookcastError('SIGNING_DISABLED');
      sendJson(res, 200, JSON.stringify(this.signingKeys));
    });
  }
}
