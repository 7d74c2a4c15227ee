/** One answered REST request, as accounting stores it (api_usage). */
export interface UsageRow {
  clientId: string | null;
  keyId: string | null;
  /** The rate-limit subject: the client, or `ip:<address>` for anonymous callers. */
  subject: string;
  /** The route pattern (`/api/v1/market/:symbol/orderbook`): few distinct values, unlike URLs. */
  endpoint: string;
  method: string;
  /** HTTP status; 499 when the client went away before the answer. */
  status: number;
  responseTimeMs: number;
  requestBytes: number;
  responseBytes: number;
  /** µs since the epoch, when the answer was sent. */
  timeUs: number;
  userAgent: string;
  ip: string;
}

export interface UsageRecorder {
  record(row: UsageRow): void;
}
