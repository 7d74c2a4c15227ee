import type { TemplatedApp } from 'uWebSockets.js';
import { BookcastError } from '../errors';
import type { Persistence } from '../store/persistence';
import type { RateBucketRow, UsageSummaryRow } from '../store/store';
import { nowMicros } from '../util/clock';
import { formatTimestampMicros } from '../wire/timestamp';
import { readQuery, route, routeAsync, sendJson, timeParameter } from './http';

const DAY_US = 86_400_000_000;

/**
 * What a caller may learn about itself and about this server's integrity:
 *   GET /api/v1/usage        the caller's own usage (subject_usage_minutes), per endpoint, method
 *                            and status, to the minute, and its rate_limit_buckets (hour and day
 *                            windows); default the last 24 hours (`start`, `end` to choose);
 *                            `subject` (admin only): another's
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
      const query = readQuery(req, ['start', 'end', 'subject']);
      const now = nowMicros();
      const from = timeParameter(query, 'start', now - DAY_US);
      const to = timeParameter(query, 'end', now);
      if (from > to) throw new BookcastError('INVALID_PARAMETER', '"start" is after "end"');
      const other = query.get('subject') ?? null;
      if (other !== null && !caller.permissions.has('admin')) throw new BookcastError('PERMISSION_DENIED', 'only an admin may ask for another subject\'s usage');
      if (other !== null && (other.length === 0 || other.length > 200)) throw new BookcastError('INVALID_PARAMETER', '"subject" is a client id or ip:<address>');
      if (!this.accounting) throw new BookcastError('USAGE_DISABLED');
      const subject = other ?? caller.subject;
      const [rows, buckets] = await Promise.all([
        this.persistence.query<UsageSummaryRow[]>({ kind: 'usage', subject, from, to: to + 1 }),
        this.persistence.query<RateBucketRow[]>({ kind: 'rate-buckets', subject, from, to: to + 1 }),
      ]);
      let requests = 0;
      let errors = 0;
      let bytes = 0;
      for (const r of rows) {
        requests += r.requests;
        if (r.status >= 400) errors += r.requests;
        bytes += r.responseBytes;
      }
      // Another subject's client and tier are not the caller's: named only for the caller's own.
      const own = other === null || other === caller.subject;
      const body = {
        subject,
        client_id: own ? caller.clientId : null,
        tier: own ? caller.tier : null,
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
        rate_limits: buckets.map((b) => ({
          bucket: b.bucket,
          window: b.window,
          start: formatTimestampMicros(b.start),
          limit: b.limit,
          allowed: b.allowed,
          refused: b.refused,
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
