import { ErrorCode, ERRORS } from '../errors';
import { MIRROR_DEPTH } from '../model/depths';
import { INTERVALS } from '../model/intervals';
import { JsonSchema, ref } from './json-schema';
import { SCHEMAS } from './schemas';

/** A query parameter of a REST endpoint. */
export interface QueryParameter {
  name: string;
  description: string;
  schema: JsonSchema;
}

/**
 * One REST endpoint as bookcast documents it. `path` is written as OpenAPI writes it
 * (`{symbol}`); the route registry writes the same path as uWS does (`:symbol`). Adding an
 * endpoint to the API description is adding one of these to ENDPOINTS (and its answer's schema
 * to SCHEMAS if it is new).
 */
export interface Endpoint {
  method: 'get' | 'post' | 'delete';
  path: string;
  tag: string;
  summary: string;
  query?: QueryParameter[];
  /** The request body's schema name (POST). */
  body?: string;
  /** The 200 answer: a schema name in SCHEMAS, or a media type served as is (HTML, JavaScript). */
  answer: { schema: string; csv?: boolean } | { mediaType: string };
  /** The error codes this endpoint may answer besides INTERNAL. */
  errors: ErrorCode[];
}

const time = (name: string, what: string): QueryParameter => ({ name, description: `${what}: ISO-8601 (to the µs) or epoch milliseconds`, schema: { type: 'string' } });
const integer = (name: string, description: string, minimum: number, maximum: number): QueryParameter => ({ name, description, schema: { type: 'integer', minimum, maximum } });
const interval: QueryParameter = { name: 'interval', description: 'candle interval; default 1m', schema: { type: 'string', enum: INTERVALS.map((i) => i.name) } };
/** A history read may wait for, or be refused by, the store. */
const STORE: ErrorCode[] = ['STORE_UNAVAILABLE', 'BUSY'];

/** What any request may meet under access control and rate limits. */
const LIMITED: ErrorCode[] = ['AUTH_REQUIRED', 'PERMISSION_DENIED', 'INVALID_API_KEY', 'API_KEY_REVOKED', 'API_KEY_EXPIRED', 'CLIENT_SUSPENDED', 'INVALID_TOKEN', 'TOKEN_EXPIRED', 'TOKEN_NOT_YET_VALID', 'RATE_LIMITED'];
/** Admin requests: a JSON body, the admin permission, the auth store. */
const ADMIN: ErrorCode[] = ['INVALID_JSON', 'INVALID_MESSAGE', 'INVALID_PARAMETER', 'MESSAGE_TOO_LARGE', 'AUTH_STORE_LOCKED', ...LIMITED];
const ADMIN_TAG = 'Access control';

/**
 * The access-control endpoints (README, "Access control"): served unless --auth off. Their answers
 * are JSON objects whose fields the README lists; secrets appear only in the creation answers.
 */
export const ACCESS_CONTROL_ENDPOINTS: Endpoint[] = [
  {
    method: 'post', path: '/api/v1/auth/token', tag: ADMIN_TAG, summary: 'A JWT access token for an API key, a client password or a refresh token (grant_type api_key | password | refresh_token)',
    answer: { mediaType: 'application/json' }, errors: ['INVALID_TOKEN_REQUEST', 'TOKEN_REQUEST_TOO_LARGE', 'UNSUPPORTED_GRANT_TYPE', 'INVALID_GRANT', 'REFRESH_TOKEN_REUSED', 'LOGIN_BACKOFF', 'LOGIN_LOCKED', 'ADDRESS_LOCKED', ...LIMITED],
  },
  { method: 'get', path: '/api/v1/auth/keys', tag: ADMIN_TAG, summary: "The caller's API keys (never their secrets)", answer: { mediaType: 'application/json' }, errors: LIMITED },
  { method: 'get', path: '/.well-known/jwks.json', tag: ADMIN_TAG, summary: 'The public keys access tokens are signed with (JWK set, EdDSA)', answer: { mediaType: 'application/json' }, errors: [] },
  { method: 'get', path: '/api/v1/admin/clients', tag: ADMIN_TAG, summary: 'Every API client (admin)', answer: { mediaType: 'application/json' }, errors: ADMIN },
  { method: 'post', path: '/api/v1/admin/clients', tag: ADMIN_TAG, summary: 'Creates a client; its secret is shown once (admin)', answer: { mediaType: 'application/json' }, errors: ADMIN },
  { method: 'post', path: '/api/v1/admin/clients/{client_id}/suspend', tag: ADMIN_TAG, summary: 'Suspends a client: its keys and tokens stop working at once (admin)', answer: { mediaType: 'application/json' }, errors: ['UNKNOWN_CLIENT', ...ADMIN] },
  { method: 'post', path: '/api/v1/admin/clients/{client_id}/activate', tag: ADMIN_TAG, summary: 'Activates a suspended or locked client (admin)', answer: { mediaType: 'application/json' }, errors: ['UNKNOWN_CLIENT', ...ADMIN] },
  { method: 'get', path: '/api/v1/admin/keys', tag: ADMIN_TAG, summary: 'Every API key (admin; never their secrets)', answer: { mediaType: 'application/json' }, errors: ADMIN },
  { method: 'post', path: '/api/v1/admin/keys', tag: ADMIN_TAG, summary: 'Creates a key for a client; its secret is shown once (admin)', answer: { mediaType: 'application/json' }, errors: ['UNKNOWN_CLIENT', ...ADMIN] },
  { method: 'post', path: '/api/v1/admin/keys/{key_id}/revoke', tag: ADMIN_TAG, summary: 'Revokes a key and the tokens issued for it (admin)', answer: { mediaType: 'application/json' }, errors: ['UNKNOWN_KEY', ...ADMIN] },
  { method: 'post', path: '/api/v1/admin/keys/{key_id}/rotate', tag: ADMIN_TAG, summary: 'Replaces a key with a new secret; the old one stops working (admin)', answer: { mediaType: 'application/json' }, errors: ['UNKNOWN_KEY', ...ADMIN] },
  { method: 'get', path: '/api/v1/admin/audit/verify', tag: ADMIN_TAG, summary: "Verifies the audit log's hash chain (admin)", answer: { mediaType: 'application/json' }, errors: ['AUDIT_CHAIN_BROKEN', ...ADMIN] },
];

export const ENDPOINTS: Endpoint[] = [
  { method: 'get', path: '/api/v1/market/symbols', tag: 'Data Feed', summary: 'The configured symbols and their decimals', answer: { schema: 'MarketSymbols' }, errors: ['INVALID_PARAMETER'] },
  { method: 'get', path: '/api/v1/market/{symbol}/ticker', tag: 'Data Feed', summary: 'Best bid and ask, last trade, rolling 24 h figures', answer: { schema: 'Ticker' }, errors: ['UNKNOWN_SYMBOL', 'INVALID_PARAMETER'] },
  {
    method: 'get', path: '/api/v1/market/{symbol}/orderbook', tag: 'Data Feed', summary: 'The L2 book now, or rebuilt exactly as it was at a past time',
    query: [integer('depth', 'levels a side; default 20', 1, MIRROR_DEPTH), time('at', 'rebuild the book as it was at this time (from the newest checkpoint and the journal)')],
    answer: { schema: 'OrderBook' },
    errors: ['UNKNOWN_SYMBOL', 'INVALID_PARAMETER', 'HISTORY_UNAVAILABLE', 'HISTORY_EXPIRED', 'BUSY', 'TOO_MANY_HEAVY_REQUESTS'],
  },
  {
    method: 'get', path: '/api/v1/market/{symbol}/trades', tag: 'Data Feed', summary: 'Recent trades, newest first; with start/end from storage too',
    query: [integer('limit', 'default 100', 1, 1000), time('start', 'earliest trade time'), time('end', 'latest trade time')],
    answer: { schema: 'Trades' }, errors: ['UNKNOWN_SYMBOL', 'INVALID_PARAMETER', ...STORE],
  },
  {
    method: 'get', path: '/api/v1/market/{symbol}/candles', tag: 'Data Feed', summary: 'Closed candles, oldest first',
    query: [interval, time('start', 'earliest candle start'), time('end', 'latest candle start'), integer('limit', 'default and most 1000', 1, 1000)],
    answer: { schema: 'Candles' }, errors: ['UNKNOWN_SYMBOL', 'INVALID_PARAMETER', 'INVALID_INTERVAL', ...STORE],
  },
  {
    method: 'get', path: '/api/v1/market/{symbol}/events', tag: 'Data Feed', summary: 'Stored input events (--store-events), a page at a time',
    query: [time('start', 'earliest event time'), time('end', 'latest event time'), integer('limit', 'default 1000', 1, 10_000), { name: 'after_sequence', description: 'the last journal sequence of the previous page', schema: { type: 'integer', minimum: 0 } }],
    answer: { schema: 'Events' }, errors: ['UNKNOWN_SYMBOL', 'INVALID_PARAMETER', 'EVENTS_DISABLED', ...STORE],
  },
  { method: 'get', path: '/api/v1/health', tag: 'Operations', summary: 'Liveness for everyone; details where --health-details allows', answer: { schema: 'Health' }, errors: ['INVALID_PARAMETER'] },
  { method: 'get', path: '/api/v1/market-data/symbols', tag: 'Market Data API', summary: 'The symbols in the Market Data API\'s words', answer: { schema: 'MarketDataSymbols' }, errors: ['INVALID_PARAMETER'] },
  {
    method: 'get', path: '/api/v1/market-data/{symbol}/latest', tag: 'Market Data API', summary: 'A snapshot with field selection and currency conversion',
    query: [{ name: 'fields', description: 'comma-separated field names', schema: { type: 'string' } }, { name: 'currency', description: 'convert prices through the engine\'s own markets', schema: { type: 'string' } }],
    answer: { schema: 'Latest' }, errors: ['UNKNOWN_SYMBOL', 'INVALID_PARAMETER', 'CONVERSION_UNAVAILABLE'],
  },
  {
    method: 'post', path: '/api/v1/market-data/bulk', tag: 'Market Data API', summary: 'Snapshots of up to 200 symbols, now or as of a past time', body: 'BulkRequest',
    answer: { schema: 'Bulk' }, errors: ['INVALID_JSON', 'INVALID_MESSAGE', 'INVALID_PARAMETER', 'TOO_MANY_SYMBOLS', 'MESSAGE_TOO_LARGE', ...STORE],
  },
  {
    method: 'get', path: '/api/v1/market-data/{symbol}/history', tag: 'Market Data API', summary: 'Stored candles, as JSON or CSV',
    query: [time('start_time', 'default: a day before end_time'), time('end_time', 'default: now'), interval, integer('limit', 'default 500', 1, 10_000), integer('offset', 'rows to skip', 0, 100_000_000),
      { name: 'fields', description: 'comma-separated: open, high, low, close, volume, vwap, trades', schema: { type: 'string' } }, { name: 'format', description: 'json (default) or csv', schema: { type: 'string', enum: ['json', 'csv'] } }],
    answer: { schema: 'History', csv: true }, errors: ['UNKNOWN_SYMBOL', 'INVALID_PARAMETER', 'INVALID_INTERVAL', ...STORE],
  },
  { method: 'get', path: '/openapi.json', tag: 'API description', summary: 'This document', answer: { mediaType: 'application/json' }, errors: [] },
  { method: 'get', path: '/asyncapi.json', tag: 'API description', summary: 'The WebSocket endpoints (AsyncAPI 3)', answer: { mediaType: 'application/json' }, errors: [] },
  { method: 'get', path: '/dashboard', tag: 'Dashboard', summary: 'The live dashboard page', answer: { mediaType: 'text/html' }, errors: [] },
  { method: 'get', path: '/dashboard/{file}', tag: 'Dashboard', summary: "The dashboard's scripts, style sheet and charting library", answer: { mediaType: 'text/javascript' }, errors: ['NOT_FOUND'] },
  { method: 'get', path: '/metrics', tag: 'Operations', summary: 'Prometheus text exposition of every bookcast metric (README, "Metrics, alerts and logs")', answer: { mediaType: 'text/plain' }, errors: [] },
  { method: 'get', path: '/api/v1/alerts', tag: 'Operations', summary: 'The four alerts evaluated in the process: firing, pending and resolved, with values and since when', answer: { mediaType: 'application/json' }, errors: [] },
  { method: 'get', path: '/api/v1/usage', tag: 'Limits and integrity', summary: "The caller's own usage summary, to the minute (subject_usage_minutes), and its rate_limit_buckets", query: [time('start', 'from'), time('end', 'to'), { name: 'subject', description: 'admin only: another subject (a client id or ip:<address>)', schema: { type: 'string' } }], answer: { mediaType: 'application/json' }, errors: ['INVALID_PARAMETER', 'PERMISSION_DENIED', 'USAGE_DISABLED', ...STORE, ...LIMITED] },
  {
    method: 'get', path: '/api/v1/cache/stats', tag: 'Operations', summary: 'The history cache: hit_rate, miss_rate, eviction_rate, memory_usage_bytes, key_count (README, "Caching")',
    answer: { mediaType: 'application/json' }, errors: ['INVALID_PARAMETER', ...LIMITED],
  },
  {
    method: 'delete', path: '/api/v1/cache/{pattern}', tag: 'Operations', summary: 'Removes the cached history answers whose keys match a Redis glob pattern, SCAN and UNLINK (admin)',
    answer: { mediaType: 'application/json' }, errors: ['INVALID_PARAMETER', 'CACHE_UNAVAILABLE', ...LIMITED],
  },
  { method: 'get', path: '/api/v1/signing-key', tag: 'Limits and integrity', summary: 'The Ed25519 public key of Bookcast-Signature, as a JWK set', answer: { mediaType: 'application/json' }, errors: ['SIGNING_DISABLED'] },
  ...ACCESS_CONTROL_ENDPOINTS,
];

/** The parts of an OpenAPI 3.1 document bookcast writes. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema> };
}

function pathParameters(path: string): object[] {
  return [...path.matchAll(/\{([a-z_]+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    description: name === 'symbol' ? 'BTC-USD, BTC%2FUSD or any case' : name,
    schema: { type: 'string' },
  }));
}

/** Error answers grouped by HTTP status, each naming the codes it can carry. */
function errorResponses(codes: ErrorCode[]): Record<string, object> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...codes, 'INTERNAL' as const]) {
    const status = ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, object> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    responses[String(status)] = {
      description: list.map((c) => `${c}: ${ERRORS[c].message}`).join('; '),
      content: { 'application/json': { schema: ref('ErrorBody') } },
    };
  }
  return responses;
}

function operation(e: Endpoint): object {
  const ok =
    'schema' in e.answer
      ? { 'application/json': { schema: ref(e.answer.schema) }, ...(e.answer.csv ? { 'text/csv': { schema: { type: 'string' } } } : {}) }
      : { [e.answer.mediaType]: { schema: { type: 'string' } } };
  return {
    tags: [e.tag],
    summary: e.summary,
    operationId: `${e.method}${e.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    parameters: [...pathParameters(e.path), ...(e.query ?? []).map((q) => ({ ...q, in: 'query', required: false }))],
    ...(e.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: ref(e.body) } } } }),
    responses: { '200': { description: 'OK', content: ok }, ...errorResponses(e.errors) },
  };
}

export function buildOpenApi(endpoints: readonly Endpoint[] = ENDPOINTS): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const e of endpoints) (paths[e.path] ??= {})[e.method] = operation(e);
  return {
    openapi: '3.1.0',
    info: {
      title: 'bookcast',
      version: '0.1.0',
      description:
        'Order books, trades, candles and snapshots over REST. Unknown query parameters, repeated ones and out-of-range values are 400 INVALID_PARAMETER; ' +
        'other methods on a path are 405 METHOD_NOT_ALLOWED; unknown paths 404 NOT_FOUND. Every error body is {"error":{"code","message","timestamp"}}. ' +
        'Prices and sizes are exact decimal strings. The WebSocket endpoints are described in /asyncapi.json.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'Data Feed', description: 'The Data Feed Service surface (/api/v1/market/...)' },
      { name: 'Market Data API', description: 'The Market Data API Service surface (/api/v1/market-data/...)' },
      { name: 'Operations', description: 'Health' },
      { name: 'API description', description: 'Machine-readable descriptions of the API' },
      { name: 'Dashboard', description: 'The live page served by bookcast' },
    ],
    paths,
    components: { schemas: SCHEMAS },
  };
}
