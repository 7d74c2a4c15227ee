/**
 * The error catalog. Every error a client or operator can see has a stable code listed here
 * (and in the README); the HTTP status applies to REST answers, WebSocket errors carry the code.
 */
export const ERRORS = {
  // Client requests
  NOT_FOUND: { status: 404, message: 'no such endpoint' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed on this endpoint' },
  UNKNOWN_SYMBOL: { status: 404, message: 'unknown symbol' },
  INVALID_PARAMETER: { status: 400, message: 'invalid parameter' },
  INVALID_JSON: { status: 400, message: 'message is not valid JSON' },
  INVALID_MESSAGE: { status: 400, message: 'message does not have the expected shape' },
  UNKNOWN_TYPE: { status: 400, message: 'unknown message type' },
  UNKNOWN_CHANNEL: { status: 400, message: 'unknown channel' },
  INVALID_DEPTH: { status: 400, message: 'depth is not one of the supported depths' },
  INVALID_INTERVAL: { status: 400, message: 'interval is not one of the supported candle intervals' },
  INVALID_RESUME: { status: 400, message: 'resume_from is not a list of streams of the request, each with its last sequence' },
  MESSAGE_TOO_LARGE: { status: 413, message: 'message exceeds the size limit' },
  BINARY_NOT_ACCEPTED: { status: 400, message: 'control messages are JSON text frames' },
  TOO_MANY_SUBSCRIPTIONS: { status: 400, message: 'subscription limit per connection reached' },
  RATE_LIMITED: { status: 429, message: 'too many requests or messages; slow down (REST: after the Retry-After seconds)' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'this origin may not open WebSocket connections here' },
  TOO_MANY_CONNECTIONS: { status: 503, message: 'the server holds its maximum number of connections' },
  TOO_MANY_CONNECTIONS_PER_IP: { status: 429, message: 'too many connections from this address' },
  SLOW_CONSUMER: { status: 503, message: 'connection fell behind; streams resynchronise with fresh snapshots' },
  TOO_MANY_SYMBOLS: { status: 400, message: 'too many symbols in one request' },
  CONVERSION_UNAVAILABLE: { status: 400, message: 'no conversion path to the requested currency' },
  HISTORY_UNAVAILABLE: { status: 400, message: 'nothing is stored for that time' },
  HISTORY_EXPIRED: { status: 410, message: 'that time is older than the retained journal and checkpoints' },
  STORE_UNAVAILABLE: { status: 503, message: 'the history store cannot answer right now' },
  BUSY: { status: 503, message: 'too much heavy work is queued; retry after the Retry-After seconds' },
  TOO_MANY_HEAVY_REQUESTS: { status: 429, message: 'this client already has the most heavy requests in progress; wait for one to finish' },
  STORE_REJECTED: { status: 500, message: 'the database refused rows for good; they are kept aside' },
  EVENTS_DISABLED: { status: 404, message: 'this server does not store input events; start it with --store-events true' },
  USAGE_DISABLED: { status: 404, message: 'this server keeps no usage accounting; start it with --usage-accounting true' },
  SIGNING_DISABLED: { status: 404, message: 'this server does not sign snapshots; start it with --sign-snapshots true' },
  BAD_FRAME: { status: 400, message: 'bytes are not a valid bookcast FlatBuffers frame' },
  CACHE_UNAVAILABLE: { status: 503, message: 'the shared cache (Redis) cannot be reached; nothing was invalidated' },
  // Access control (auth/)
  AUTH_REQUIRED: { status: 401, message: 'this server requires an API key (X-API-Key) or a bearer token' },
  PERMISSION_DENIED: { status: 403, message: "the caller's tier or key does not include this permission" },
  INVALID_API_KEY: { status: 401, message: 'the API key is malformed or unknown' },
  API_KEY_REVOKED: { status: 401, message: 'the API key was revoked' },
  API_KEY_EXPIRED: { status: 401, message: 'the API key has expired' },
  CLIENT_SUSPENDED: { status: 403, message: 'the client is suspended or inactive' },
  INVALID_TOKEN: { status: 401, message: 'the bearer token is malformed, wrongly signed, or not for this server' },
  TOKEN_EXPIRED: { status: 401, message: 'the access token has expired; get a new one at /api/v1/auth/token' },
  TOKEN_NOT_YET_VALID: { status: 401, message: 'the access token is not valid yet (nbf)' },
  INVALID_GRANT: { status: 401, message: 'the credentials or refresh token are wrong, expired or revoked' },
  REFRESH_TOKEN_REUSED: { status: 401, message: 'the refresh token was already used; its whole family is revoked' },
  LOGIN_BACKOFF: { status: 403, message: 'too many failed logins for this client or from this address; wait before trying again' },
  LOGIN_LOCKED: { status: 403, message: 'the client is locked after repeated failed logins; an administrator must unlock it' },
  ADDRESS_LOCKED: { status: 403, message: 'too many failed logins from this address; it is refused for an hour' },
  INVALID_TOKEN_REQUEST: { status: 401, message: 'the token request is malformed (a JSON or form body with grant_type)' },
  TOKEN_REQUEST_TOO_LARGE: { status: 401, message: 'the token request is larger than 8 KiB; nothing of it was read' },
  UNSUPPORTED_GRANT_TYPE: { status: 401, message: 'grant_type must be api_key, password or refresh_token' },
  UNKNOWN_CLIENT: { status: 404, message: 'no such client' },
  UNKNOWN_KEY: { status: 404, message: 'no such API key' },
  AUTH_STORE_LOCKED: { status: 500, message: 'another process (a running server) holds the embedded store; use the admin REST endpoints of the running server' },
  AUTH_IMPORT_CONFLICT: { status: 500, message: 'the store already holds clients, keys or audit rows that the separate auth store being imported does not' },
  AUDIT_CHAIN_BROKEN: { status: 500, message: 'the audit log was edited or has rows missing' },
  // Publishers (/ingest)
  UNAUTHORIZED: { status: 401, message: 'missing or wrong publisher token' },
  INGEST_DISABLED: { status: 404, message: 'this server does not take ingest; start it with --source ingest' },
  PUBLISHER_CONNECTED: { status: 409, message: 'another publisher is connected; one publisher at a time' },
  BAD_BATCH: { status: 400, message: 'the batch is malformed; nothing of it was accepted' },
  SEQUENCE_GAP: { status: 409, message: 'the batch skips sequences; nothing of it was accepted' },
  TIMESTAMP_OUT_OF_RANGE: { status: 400, message: 'an event time is before 2000 or too far ahead of the server clock; nothing of the batch was accepted' },
  INGEST_OVERLOADED: { status: 503, message: 'too many accepted events wait for the books; resend from the last ack' },
  // Recorded-file sources (bookcast replay, --source lobster:)
  LOBSTER_FILE_NOT_FOUND: { status: 500, message: 'LOBSTER message or orderbook file not found' },
  LOBSTER_BAD_NAME: { status: 500, message: 'file name does not follow LOBSTER naming' },
  LOBSTER_BAD_ROW: { status: 500, message: 'LOBSTER row cannot be parsed' },
  LOBSTER_INCONSISTENT: { status: 500, message: 'LOBSTER messages and orderbook rows disagree' },
  // Input journal (data-dir/journal)
  JOURNAL_CORRUPT: { status: 500, message: 'a journal record is damaged before its end' },
  JOURNAL_LOCKED: { status: 500, message: 'another live process writes this journal' },
  JOURNAL_IO: { status: 500, message: 'a journal read, write or fsync failed' },
  JOURNAL_OPTIONS: { status: 500, message: 'invalid journal options' },
  JOURNAL_CLOSED: { status: 500, message: 'the journal was closed or failed earlier' },
  JOURNAL_NOT_FOUND: { status: 500, message: 'no journal directory' },
  JOURNAL_UNSUPPORTED: { status: 500, message: 'the journal needs a little-endian machine' },
  CHECKPOINT_CORRUPT: { status: 500, message: 'a book checkpoint is damaged or does not match the journal' },
  // FIX gateway (in Text (58) of a Logout, Reject or MarketDataRequestReject, as "CODE: reason")
  FIX_LOGON_REFUSED: { status: 401, message: 'FIX Logon refused: unknown SenderCompID, wrong password or bad Logon fields' },
  FIX_ALREADY_LOGGED_ON: { status: 409, message: 'this FIX session is already logged on' },
  FIX_SEQUENCE_TOO_LOW: { status: 400, message: 'MsgSeqNum lower than expected without PossDupFlag' },
  FIX_INVALID_MESSAGE: { status: 400, message: 'FIX message lacks a required field, has a wrong value or an unsupported MsgType' },
  FIX_GARBLED: { status: 400, message: 'too many garbled FIX messages (framing, BodyLength or CheckSum) in a row' },
  FIX_MESSAGE_TOO_LARGE: { status: 413, message: 'FIX message exceeds --fix-max-message-bytes' },
  FIX_RATE_LIMITED: { status: 429, message: 'too many FIX messages per second' },
  FIX_HEARTBEAT_TIMEOUT: { status: 408, message: 'the FIX counterparty did not answer a TestRequest' },
  FIX_DUPLICATE_REQUEST: { status: 409, message: 'MDReqID already in use, or the stream is already followed under another MDReqID' },
  FIX_PERMISSION_DENIED: { status: 403, message: 'the FIX session may not receive this kind of market data' },
  FIX_SHUTDOWN: { status: 503, message: 'the server is stopping' },
  // External feeds (--source feed:<venue>, capture:<file>, bookcast record); the FEED_* data-quality
  // codes name log lines and are counted per symbol in /api/v1/health, the feed is repaired
  CAPTURE_NOT_FOUND: { status: 500, message: 'the capture file cannot be opened' },
  CAPTURE_CORRUPT: { status: 500, message: 'the file is not a bookcast capture, or is damaged before its end' },
  FEED_REFERENCE_FAILED: { status: 500, message: "the venue's reference data (tick, lot) could not be fetched at start" },
  FEED_SEQUENCE_GAP: { status: 500, message: 'the venue skipped a sequence number; the symbol is resynchronised' },
  FEED_CHECKSUM_MISMATCH: { status: 500, message: "the venue's book checksum disagrees with the local book; the symbol is resynchronised" },
  FEED_CROSSED_BOOK: { status: 500, message: "the venue's book crossed; the symbol is resynchronised" },
  FEED_MALFORMED_MESSAGE: { status: 500, message: 'a venue message could not be read; the symbol is resynchronised' },
  FEED_SUBSCRIBE_REFUSED: { status: 500, message: 'the venue refused a subscription' },
  FEED_SNAPSHOT_FAILED: { status: 500, message: 'the venue did not answer a REST book snapshot; the connection is reopened' },
  FEED_CONNECT_FAILED: { status: 500, message: 'the venue could not be reached; retried after a backoff' },
  FEED_RECONNECT: { status: 500, message: 'the feed connection was dropped and is reopened after a backoff' },
  // Operator / start-up
  CONFIG_INVALID: { status: 500, message: 'invalid configuration' },
  UWS_FALLBACK: { status: 500, message: 'uWebSockets.js native binary did not load' },
  UNSUPPORTED_ARCH: { status: 500, message: 'the shared-memory book mirror is verified on x64 and arm64 only' },
  LISTEN_FAILED: { status: 500, message: 'could not listen on the configured host and port' },
  WORKER_FAILED: { status: 500, message: 'a book worker failed' },
  REPLICATION_UNAVAILABLE: { status: 503, message: "the primary's replication data in Redis cannot be read (edge start-up) or written (primary, retried)" },
  NOT_PRIMARY: { status: 503, message: 'this process is a standby, not the primary: publishers connect to the primary (another of their URLs), clients to edges' },
  PRIMARY_FENCED: { status: 503, message: 'another process took the primary lease; this one acknowledges and publishes nothing more' },
  REPLICATION_GAP: { status: 500, message: 'the replication stream no longer holds the records this edge needs; restart it to bootstrap from the checkpoint' },
  INTERNAL: { status: 500, message: 'internal error' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** A cold-path error with a stable code; crosses threads as {code, message}. */
export class BookcastError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message?: string) {
    super(message ?? ERRORS[code].message);
    this.name = 'BookcastError';
    this.code = code;
    this.status = ERRORS[code].status;
  }
}
