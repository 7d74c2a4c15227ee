import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { BookcastError } from './errors';
import { DEFAULT_INSTRUMENTS, InstrumentSpec, REFERENCE_PRICES } from './model/instruments';
import { MIRROR_DEPTH } from './model/depths';
import { parseTimestamp } from './wire/timestamp';
import { descriptorBudget, readFileLimit } from './util/descriptor-budget';
import { LOG_LEVELS, LogLevel } from './util/log';

/**
 * Who sees `/api/v1/health` beyond `{status, uptime_s}`: the details name publisher sessions,
 * sequences, symbols per worker, the store and its last error's text — an operator's view, not
 * an anonymous client's.
 *   none   nobody (the public answer only)
 *   local  requests from a loopback address that no proxy forwarded (the default)
 *   all    everyone (a private network)
 * Applied by gateway/health-access.ts.
 */
export const HEALTH_DETAILS = ['none', 'local', 'all'] as const;
export type HealthDetails = (typeof HEALTH_DETAILS)[number];

/**
 * `--auth`: who may reach what (auth/admission.ts).
 *   off       everyone has everything (bookcast before access control)
 *   optional  anonymous callers get the public tier; keys and tokens unlock more (the default)
 *   required  anonymous callers are refused except on health, the token endpoint and the JWKS
 */
export const AUTH_MODES = ['off', 'optional', 'required'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Connection defaults leave part of this process's open-file limit to the journal and the store. */
const DESCRIPTORS = descriptorBudget(readFileLimit());

export type SourceConfig =
  | { kind: 'simulator'; rate: number; seed: number }
  /** No live source: the books are what the journal restores (inspection, tests). */
  | { kind: 'none' }
  /** Publishers push events over WebSocket /ingest, authenticated by the token. */
  | { kind: 'ingest'; token: string; maxBatchEvents: number; maxBatchBytes: number }
  | { kind: 'lobster'; path: string; speed: number; originalTime: boolean }
  /** Re-publishes a recorded input journal; `from`/`until` in µs since the epoch (see journal-replay.ts). */
  | { kind: 'journal'; dir: string; from: number; until: number; speed: number; originalTime: boolean }
  /** An exchange's public market data (src/feeds/); `url`/`restUrl` empty: the venue's own. */
  | { kind: 'feed'; venue: FeedVenue; url: string; restUrl: string; depth: number; symbols: FeedSymbolSpec[] }
  /** A capture made by `bookcast record`, played through the same adapter (src/feeds/capture-file.ts). */
  | { kind: 'capture'; path: string; speed: number; originalTime: boolean }
  /** `bookcast edge`: applies a primary's sequenced input from Redis (src/edge/); the symbols come from the primary. */
  | { kind: 'follow'; redisUrl: string }
  /** `bookcast standby`: follows like an edge, journaling what it applies, and becomes an ingest primary when the lease lapses. */
  | { kind: 'standby'; redisUrl: string; ingest: IngestSourceConfig };

export type IngestSourceConfig = Extract<SourceConfig, { kind: 'ingest' }>;

/** Venues with an adapter in src/feeds/. */
export const FEED_VENUES = ['kraken', 'kraken-v1', 'binance', 'coinbase', 'bitfinex'] as const;
export type FeedVenue = (typeof FEED_VENUES)[number];

/**
 * One entry of --feed-symbols: the venue's symbol, the bookcast symbol it becomes, and its tick,
 * lot and minimum order size as decimal strings ('' where the venue's reference data supplies them
 * at start: feeds/feed-reference.ts).
 */
export interface FeedSymbolSpec {
  venueSymbol: string;
  symbol: string;
  tickSize: string;
  lotSize: string;
  minOrderSize: string;
}

/** Sources that re-publish a recording: clients are told so by a flag, and by nothing else. */
export function isReplay(source: SourceConfig): boolean {
  return source.kind === 'lobster' || source.kind === 'journal' || source.kind === 'capture';
}

/** A live source (the simulator, publishers): it journals what it takes, and never ends by itself. */
export function isLive(source: SourceConfig): boolean {
  return source.kind === 'simulator' || source.kind === 'ingest' || source.kind === 'feed';
}

export interface Config {
  host: string;
  port: number;
  workers: number;
  instruments: InstrumentSpec[];
  /** Mid price per symbol for the simulator, as decimal strings. */
  referencePrices: Record<string, string>;
  source: SourceConfig;
  heartbeatMs: number;
  /** Bytes buffered for one connection before it is resynchronised (see "Slow consumers"). */
  softBackpressure: number;
  /** Bytes buffered for one connection before it is closed. */
  maxBackpressure: number;
  /** Largest control message accepted from a client, in bytes. */
  maxMessageBytes: number;
  /** The recent-message buffer resumes replay from, per stream: messages and bytes at most (README "Resume"). */
  resumeMessages: number;
  resumeBytes: number;
  /** server_shutdown's reconnect hints are spread uniformly over this many ms. */
  shutdownSpreadMs: number;
  /** Control messages per second per connection before RATE_LIMITED. */
  maxMessagesPerSecond: number;
  maxSubscriptionsPerConnection: number;
  /** Open WebSocket connections at most, all endpoints together, and per client address. */
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Browser origins allowed to open WebSocket connections; empty allows every origin. */
  allowedOrigins: string[];
  /** Who sees /api/v1/health beyond status and uptime (health-access.ts). */
  healthDetails: HealthDetails;
  /** Embedded store (PGlite) and spool live here; also the journal. */
  dataDir: string;
  /** PostgreSQL (or TimescaleDB) instead of the embedded store, when set. */
  databaseUrl: string | undefined;
  snapshotIntervalMs: number;
  snapshotDepth: number;
  batchRows: number;
  batchMs: number;
  /** Checkpoint the books after this many journaled events (0: not by count). */
  checkpointEvents: number;
  /** ... or after this long with new events (0: not by time). */
  checkpointIntervalMs: number;
  /** Journal and checkpoints kept at least this long; 0 keeps the whole journal. */
  journalRetentionHours: number;
  /** Least time between two journal fdatasyncs (group commit); 0 syncs every batch. */
  journalFsyncMs: number;
  /** Store every journaled input event in order_events (live sources only). */
  storeEvents: boolean;
  /** Heavy requests (orderbook?at=) that may wait for the heavy-work thread; more answer 503 BUSY. */
  heavyQueue: number;
  /** Heavy requests an anonymous client (its address) may have running or waiting; more answer 429. */
  heavyPerClient: number;
  /** A Redis rate-limit check slower than this is answered from this process's counts. */
  redisTimeoutMs: number;
  /** Request budget of anonymous callers (the public tier), per address. */
  publicRate: RateBudget;
  /** PEM certificate chain and key: serve HTTPS and WSS (TLS 1.3) instead of plain HTTP. */
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  tlsPassphrase: string | undefined;
  /** Ed25519 signatures on REST snapshots and WebSocket snapshots and heartbeats. */
  signSnapshots: boolean;
  /** PEM (PKCS#8) Ed25519 private key; empty: a fresh key per start. */
  signingKey: string | undefined;
  /** Usage rows (api_usage) per REST request. */
  usageAccounting: boolean;
  /** Store client addresses in usage rows with the host part zeroed (IPv4 /24, IPv6 /48). */
  anonymizeIp: boolean;
  /** Access control (auth/): off, optional (anonymous = public tier), required. */
  auth: AuthMode;
  /** Server secret keying API-key hashes and sealing signing keys; '' = generated in the data directory. */
  authSecret: string;
  /** Access-token lifetime in seconds. */
  authTokenTtlS: number;
  /** Refresh-token lifetime in seconds. */
  authRefreshTtlS: number;
  /** The `iss` and `aud` of the tokens this server issues and accepts. */
  authIssuer: string;
  /** Shared state (rate-limit counters, the auth cache and its revocations) lives here when set; otherwise in this process. */
  redisUrl: string | undefined;
  /** Keys of the replication stream, checkpoint and metadata a primary publishes and edges follow (src/edge/). */
  replicationPrefix: string;
  /** Journal records the replication stream keeps (at least; plus everything after the published checkpoint). */
  replicationRetention: number;
  /** The primary's lease in Redis (src/edge/primary-lease.ts), ms; 0: no lease (and no standby can take over). */
  leaseMs: number;
  /** Put before every history-cache key in Redis, so several deployments (or tests) share one Redis apart. */
  cachePrefix: string;
  /** The FIX 4.4 market-data acceptor (src/fix/); null when --fix-port is not set. */
  fix: FixConfig | null;
  /** pino level of the JSON log on stderr (util/log.ts). */
  logLevel: LogLevel;
  /** Metrics and alerts (metrics/, alerts/): see README "Metrics, alerts and logs". */
  metrics: MetricsConfig;
}

export interface FixConfig {
  port: number;
  /** JSON list of SenderCompIDs, passwords and permissions (fix/fix-credentials.ts); '' = API keys only (access control on). */
  sessionsFile: string;
  /** Our CompID: the TargetCompID (56) clients log on to, and SenderCompID (49) of what we send. */
  compId: string;
  /** --fix-tls-cert/--fix-tls-key, or else the shared --tls-cert/--tls-key (and its passphrase); '' = plain TCP. */
  tlsCert: string;
  tlsKey: string;
  tlsPassphrase: string;
  maxMessageBytes: number;
  maxMessagesPerSecond: number;
  /** Outgoing application messages kept per FIX session for ResendRequest. */
  storeMessages: number;
}

export interface MetricsConfig {
  /** The window latency quantiles and the connection-failure ratio cover. */
  windowMs: number;
  /** How often the alerts are evaluated. */
  alertIntervalMs: number;
  /** How long a condition must hold (pending) before its alert fires. */
  alertForMs: number;
  /** Event-to-send p99 above this fires LatencyP99High (µs). */
  latencyP99Us: number;
  /** Any queue deeper than this fires QueueDepthHigh. */
  queueDepth: number;
  /** Refused WebSocket upgrades above this share of attempts fire ConnectionFailuresHigh (percent). */
  connectionFailurePercent: number;
  /** The data directory's filesystem with less free than this fires StorageFreeLow (percent). */
  storageFreePercent: number;
}

interface Option {
  flag: string;
  env: string;
  help: string;
  default: string;
}

/** The public tier's default budget: generous for one address, far below what a crawler would take. */
const DEFAULT_PUBLIC_RATE = 'second=50,burst=100,minute=3000,hour=60000,day=1000000';
const RATE_KEYS = ['second', 'burst', 'minute', 'hour', 'day'] as const;

/**
 * A request budget; auth/caller.ts's RatePolicy has this shape (config.ts stands below auth/,
 * which reads the configuration, so it cannot import it).
 */
export interface RateBudget {
  perSecond: number;
  perMinute: number;
  perHour: number;
  perDay: number;
  burst: number;
}

/** --public-rate: `second=N,burst=N,minute=N,hour=N,day=N` (a missing window is unlimited) or `off`. */
export function ratePolicy(name: string, text: string): RateBudget {
  const values: Record<(typeof RATE_KEYS)[number], number> = { second: 0, burst: 0, minute: 0, hour: 0, day: 0 };
  if (text.trim() !== 'off') {
    for (const part of text.split(',')) {
      const [key, value] = part.split('=').map((x) => x.trim());
      if (!(RATE_KEYS as readonly string[]).includes(key) || value === undefined) {
        throw new BookcastError('CONFIG_INVALID', `${name}: "${part}" is not one of ${RATE_KEYS.map((k) => `${k}=N`).join(', ')} (or off)`);
      }
      values[key as (typeof RATE_KEYS)[number]] = integer(`${name} ${key}`, value, 0, 1_000_000_000);
    }
  }
  return { perSecond: values.second, burst: values.burst, perMinute: values.minute, perHour: values.hour, perDay: values.day };
}

function flag(name: string, text: string): boolean {
  if (text !== 'true' && text !== 'false') throw new BookcastError('CONFIG_INVALID', `${name} must be true or false, got "${text}"`);
  return text === 'true';
}

/** Every option, its environment variable and default; the README's table mirrors this list. */
export const OPTIONS: readonly Option[] = [
  { flag: 'host', env: 'BOOKCAST_HOST', default: '127.0.0.1', help: 'address to bind' },
  { flag: 'port', env: 'BOOKCAST_PORT', default: '8080', help: 'HTTP/WebSocket port (0 picks a free one)' },
  { flag: 'workers', env: 'BOOKCAST_WORKERS', default: String(availableParallelism()), help: 'book worker threads' },
  { flag: 'symbols', env: 'BOOKCAST_SYMBOLS', default: DEFAULT_INSTRUMENTS.map((i) => i.symbol).join(','), help: 'comma-separated built-in symbols' },
  { flag: 'symbol-count', env: 'BOOKCAST_SYMBOL_COUNT', default: '0', help: 'add N generated symbols (SIM001/USD, …) for load tests' },
  { flag: 'source', env: 'BOOKCAST_SOURCE', default: 'simulator', help: 'simulator | ingest | none | lobster:<message.csv> | journal:<dir> | feed:<kraken|kraken-v1|binance|coinbase|bitfinex> | capture:<file>' },
  { flag: 'feed-symbols', env: 'BOOKCAST_FEED_SYMBOLS', default: '', help: 'feed: comma-separated VENUE_SYMBOL[=BASE/QUOTE][@TICK/LOT[/MIN]]; without @ the venue\'s reference data gives tick and lot' },
  { flag: 'feed-url', env: 'BOOKCAST_FEED_URL', default: '', help: 'feed: the venue\'s WebSocket URL (a proxy, a sandbox, a test server); empty: the venue\'s public one' },
  { flag: 'feed-rest-url', env: 'BOOKCAST_FEED_REST_URL', default: '', help: 'feed: the venue\'s REST base URL (snapshots, reference data); empty: the venue\'s public one' },
  { flag: 'feed-depth', env: 'BOOKCAST_FEED_DEPTH', default: '100', help: 'feed: book levels per side asked of the venue (Kraken: 10, 25, 100, 500 or 1000; Bitfinex: orders per side, 1, 25, 100 or 250; Binance and Coinbase: levels published, 0 = every level)' },
  { flag: 'publisher-token', env: 'BOOKCAST_PUBLISHER_TOKEN', default: '', help: 'secret publishers present to /ingest (--source ingest; 16+ characters)' },
  { flag: 'ingest-max-batch-events', env: 'BOOKCAST_INGEST_MAX_BATCH_EVENTS', default: '10000', help: 'events in one /ingest batch at most' },
  { flag: 'ingest-max-batch-bytes', env: 'BOOKCAST_INGEST_MAX_BATCH_BYTES', default: String(4 * 1024 * 1024), help: 'bytes in one /ingest batch at most' },
  { flag: 'rate', env: 'BOOKCAST_SIM_RATE', default: '500', help: 'simulator order arrivals per second, all symbols together' },
  { flag: 'seed', env: 'BOOKCAST_SIM_SEED', default: '1', help: 'simulator random seed' },
  { flag: 'speed', env: 'BOOKCAST_REPLAY_SPEED', default: '1', help: 'file replay speed: 1 = real time, N = N times faster, 0 = as fast as possible' },
  { flag: 'replay-time', env: 'BOOKCAST_REPLAY_TIME', default: 'now', help: 'file replay timestamps: now (when replayed) or original (as recorded)' },
  { flag: 'from', env: 'BOOKCAST_REPLAY_FROM', default: '', help: 'journal replay starts at this time (ISO-8601, epoch ms or µs); earlier events only build the books' },
  { flag: 'until', env: 'BOOKCAST_REPLAY_UNTIL', default: '', help: 'journal replay stops after this time (ISO-8601, epoch ms or µs)' },
  { flag: 'heartbeat-ms', env: 'BOOKCAST_HEARTBEAT_MS', default: '1000', help: 'WebSocket heartbeat interval' },
  { flag: 'soft-backpressure', env: 'BOOKCAST_SOFT_BACKPRESSURE', default: String(256 * 1024), help: 'bytes buffered before a connection is resynchronised' },
  { flag: 'max-backpressure', env: 'BOOKCAST_MAX_BACKPRESSURE', default: String(4 * 1024 * 1024), help: 'bytes buffered before a connection is closed (code 1013)' },
  { flag: 'resume-messages', env: 'BOOKCAST_RESUME_MESSAGES', default: '1024', help: 'messages kept per followed stream for resumes' },
  { flag: 'resume-bytes', env: 'BOOKCAST_RESUME_BYTES', default: String(256 * 1024), help: 'bytes kept per followed stream for resumes' },
  { flag: 'shutdown-spread-ms', env: 'BOOKCAST_SHUTDOWN_SPREAD_MS', default: '5000', help: 'server_shutdown reconnect hints are spread over this many ms' },
  { flag: 'max-message-bytes', env: 'BOOKCAST_MAX_MESSAGE_BYTES', default: '4096', help: 'largest client control message' },
  { flag: 'max-messages-per-second', env: 'BOOKCAST_MAX_MESSAGES_PER_SECOND', default: '50', help: 'client control messages per second' },
  { flag: 'max-subscriptions', env: 'BOOKCAST_MAX_SUBSCRIPTIONS', default: '1000', help: 'subscriptions per connection' },
  { flag: 'max-connections', env: 'BOOKCAST_MAX_CONNECTIONS', default: String(DESCRIPTORS.maxConnections), help: `open WebSocket connections at most, all endpoints (the open-file limit ${DESCRIPTORS.fileLimit} less a reserve of ${DESCRIPTORS.reserve} and an accept queue of ${DESCRIPTORS.acceptQueue})` },
  { flag: 'max-connections-per-ip', env: 'BOOKCAST_MAX_CONNECTIONS_PER_IP', default: '', help: 'open WebSocket connections per client address (IPv6: per /64) at most; empty: a quarter of --max-connections' },
  { flag: 'allowed-origins', env: 'BOOKCAST_ALLOWED_ORIGINS', default: '', help: 'comma-separated browser origins (https://app.example.com) allowed to open WebSockets; empty allows all' },
  { flag: 'health-details', env: 'BOOKCAST_HEALTH_DETAILS', default: 'local', help: 'who sees /api/v1/health details: none | local (loopback, not proxied) | all' },
  { flag: 'data-dir', env: 'BOOKCAST_DATA_DIR', default: './data', help: 'embedded store (PGlite) and spool directory' },
  { flag: 'database-url', env: 'DATABASE_URL', default: '', help: 'PostgreSQL URL; empty uses the embedded store' },
  { flag: 'snapshot-interval-ms', env: 'BOOKCAST_SNAPSHOT_INTERVAL_MS', default: '10000', help: 'how often a changed book is stored' },
  { flag: 'snapshot-depth', env: 'BOOKCAST_SNAPSHOT_DEPTH', default: '50', help: 'levels per side in a stored book snapshot' },
  { flag: 'batch-rows', env: 'BOOKCAST_BATCH_ROWS', default: '10000', help: 'rows per storage batch at most' },
  { flag: 'batch-ms', env: 'BOOKCAST_BATCH_MS', default: '100', help: 'a storage batch waits at most this long' },
  { flag: 'store-events', env: 'BOOKCAST_STORE_EVENTS', default: 'false', help: 'true stores every journaled input event (order_events); live sources only' },
  { flag: 'journal-fsync-ms', env: 'BOOKCAST_JOURNAL_FSYNC_MS', default: '5', help: 'least time between two journal fdatasyncs (group commit); 0 syncs every batch' },
  { flag: 'checkpoint-events', env: 'BOOKCAST_CHECKPOINT_EVENTS', default: '1000000', help: 'checkpoint the books every N journaled events (0: not by count)' },
  { flag: 'checkpoint-interval-ms', env: 'BOOKCAST_CHECKPOINT_INTERVAL_MS', default: '600000', help: 'checkpoint the books at least this often while events arrive (0: not by time)' },
  { flag: 'journal-retention-hours', env: 'BOOKCAST_JOURNAL_RETENTION_HOURS', default: '24', help: 'keep journal and checkpoints this long (0: keep the whole journal)' },
  { flag: 'heavy-queue', env: 'BOOKCAST_HEAVY_QUEUE', default: '16', help: 'heavy requests (orderbook?at=) waiting at most; more answer 503 BUSY' },
  { flag: 'heavy-per-client', env: 'BOOKCAST_HEAVY_PER_CLIENT', default: '2', help: 'heavy requests (orderbook?at=, history, bulk) an anonymous client may have in progress; more answer 429' },
  { flag: 'redis-timeout-ms', env: 'BOOKCAST_REDIS_TIMEOUT_MS', default: '50', help: 'a slower Redis rate-limit check is answered from this process\'s counts' },
  { flag: 'public-rate', env: 'BOOKCAST_PUBLIC_RATE', default: DEFAULT_PUBLIC_RATE, help: 'anonymous request budget per address: second=N,burst=N,minute=N,hour=N,day=N (0 or absent: no limit), or off' },
  { flag: 'tls-cert', env: 'BOOKCAST_TLS_CERT', default: '', help: 'PEM certificate (chain) file: serve HTTPS/WSS, TLS 1.3 only' },
  { flag: 'tls-key', env: 'BOOKCAST_TLS_KEY', default: '', help: 'PEM private key file for --tls-cert' },
  { flag: 'tls-passphrase', env: 'BOOKCAST_TLS_PASSPHRASE', default: '', help: 'passphrase of an encrypted --tls-key' },
  { flag: 'sign-snapshots', env: 'BOOKCAST_SIGN_SNAPSHOTS', default: 'false', help: 'true: Ed25519 signatures on REST snapshots and WebSocket snapshots/heartbeats' },
  { flag: 'signing-key', env: 'BOOKCAST_SIGNING_KEY', default: '', help: 'PEM (PKCS#8) Ed25519 private key file for --sign-snapshots; empty: a new key each start' },
  { flag: 'usage-accounting', env: 'BOOKCAST_USAGE_ACCOUNTING', default: 'true', help: 'true: store one api_usage row per REST request (batched, COPY)' },
  { flag: 'anonymize-ip', env: 'BOOKCAST_ANONYMIZE_IP', default: 'false', help: 'true: usage rows keep client addresses with the host part zeroed (IPv4 /24, IPv6 /48)' },
  { flag: 'auth', env: 'BOOKCAST_AUTH', default: 'optional', help: 'access control: off (everyone has everything) | optional (anonymous callers get the public tier) | required' },
  { flag: 'auth-secret', env: 'BOOKCAST_AUTH_SECRET', default: '', help: 'server secret (32+ characters) keying API-key hashes; empty: generated once in <data-dir>/auth-secret (mode 0600)' },
  { flag: 'auth-token-ttl', env: 'BOOKCAST_AUTH_TOKEN_TTL', default: '900', help: 'access-token lifetime, seconds' },
  { flag: 'auth-refresh-ttl', env: 'BOOKCAST_AUTH_REFRESH_TTL', default: '2592000', help: 'refresh-token lifetime, seconds' },
  { flag: 'auth-issuer', env: 'BOOKCAST_AUTH_ISSUER', default: 'bookcast', help: 'iss and aud of the access tokens issued and accepted' },
  { flag: 'redis-url', env: 'REDIS_URL', default: '', help: 'Redis URL (redis://host:6379) for state several processes share (rate-limit counters, verified keys and tokens, revocations); empty: in-process' },
  { flag: 'replication-prefix', env: 'BOOKCAST_REPLICATION_PREFIX', default: 'bookcast:repl', help: 'with --redis-url, a live primary publishes its input under these keys and `bookcast edge` follows them' },
  { flag: 'lease-ms', env: 'BOOKCAST_LEASE_MS', default: '0', help: 'with --redis-url, a live primary holds a lease of this many ms (renewed every quarter) that `bookcast standby` takes over when it lapses; 0: no lease' },
  { flag: 'replication-retention', env: 'BOOKCAST_REPLICATION_RETENTION', default: '1000000', help: 'journal records the replication stream keeps (MINID ~); an edge further behind bootstraps from the published checkpoint' },
  { flag: 'cache-prefix', env: 'BOOKCAST_CACHE_PREFIX', default: '', help: 'with --redis-url: put before every history-cache key (historical:…), so deployments sharing one Redis keep apart' },
  { flag: 'fix-port', env: 'BOOKCAST_FIX_PORT', default: '', help: 'FIX 4.4 market-data acceptor port (0 picks a free one); empty: no FIX' },
  { flag: 'fix-sessions', env: 'BOOKCAST_FIX_SESSIONS', default: '', help: 'JSON file of FIX SenderCompIDs, passwords and permissions (required with --fix-port under --auth off; otherwise API keys log on too)' },
  { flag: 'fix-comp-id', env: 'BOOKCAST_FIX_COMP_ID', default: 'BOOKCAST', help: 'the acceptor\'s CompID (clients\' TargetCompID)' },
  { flag: 'fix-tls-cert', env: 'BOOKCAST_FIX_TLS_CERT', default: '', help: 'PEM certificate: with --fix-tls-key the FIX port speaks TLS (default: --tls-cert/--tls-key when set)' },
  { flag: 'fix-tls-key', env: 'BOOKCAST_FIX_TLS_KEY', default: '', help: 'PEM private key of --fix-tls-cert' },
  { flag: 'fix-max-message-bytes', env: 'BOOKCAST_FIX_MAX_MESSAGE_BYTES', default: '16384', help: 'largest inbound FIX message; a larger one ends the session' },
  { flag: 'fix-max-messages-per-second', env: 'BOOKCAST_FIX_MAX_MESSAGES_PER_SECOND', default: '100', help: 'inbound FIX messages per second per session before Logout' },
  { flag: 'fix-store-messages', env: 'BOOKCAST_FIX_STORE_MESSAGES', default: '10000', help: 'outgoing FIX application messages kept per session for ResendRequest' },
  { flag: 'log-level', env: 'BOOKCAST_LOG_LEVEL', default: 'info', help: `JSON log (stderr) level: ${LOG_LEVELS.join(' | ')}` },
  { flag: 'metrics-window-ms', env: 'BOOKCAST_METRICS_WINDOW_MS', default: '60000', help: 'window of the latency quantiles and the connection-failure ratio' },
  { flag: 'alert-interval-ms', env: 'BOOKCAST_ALERT_INTERVAL_MS', default: '1000', help: 'how often alerts are evaluated' },
  { flag: 'alert-for-ms', env: 'BOOKCAST_ALERT_FOR_MS', default: '60000', help: 'how long a condition holds (pending) before its alert fires' },
  { flag: 'alert-latency-p99-us', env: 'BOOKCAST_ALERT_LATENCY_P99_US', default: '10000', help: 'event-to-send p99 (µs) above which LatencyP99High fires' },
  { flag: 'alert-queue-depth', env: 'BOOKCAST_ALERT_QUEUE_DEPTH', default: '10000', help: 'queue depth above which QueueDepthHigh fires' },
  { flag: 'alert-connection-failure-percent', env: 'BOOKCAST_ALERT_CONNECTION_FAILURE_PERCENT', default: '1', help: 'refused WebSocket upgrades (% of attempts) above which ConnectionFailuresHigh fires' },
  { flag: 'alert-storage-free-percent', env: 'BOOKCAST_ALERT_STORAGE_FREE_PERCENT', default: '20', help: 'free space (%) of the data directory\'s filesystem below which StorageFreeLow fires' },
];

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new BookcastError('CONFIG_INVALID', `${name} must be an integer in [${min}, ${max}], got "${text}"`);
  }
  return value;
}

function parseArgs(argv: readonly string[]): Map<string, string> {
  const known = new Set(OPTIONS.map((o) => o.flag));
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new BookcastError('CONFIG_INVALID', `unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (!known.has(name)) throw new BookcastError('CONFIG_INVALID', `unknown option --${name}`);
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new BookcastError('CONFIG_INVALID', `--${name} needs a value`);
    values.set(name, value);
  }
  return values;
}

/** Generated instruments for load tests: priced like a mid-cap pair so books are realistic. */
export function generatedInstruments(count: number): { specs: InstrumentSpec[]; prices: Record<string, string> } {
  const specs: InstrumentSpec[] = [];
  const prices: Record<string, string> = {};
  for (let i = 1; i <= count; i++) {
    const base = `SIM${String(i).padStart(3, '0')}`;
    const symbol = `${base}/USD`;
    specs.push({ symbol, base, quote: 'USD', tickSize: '0.01', lotSize: '0.001', minOrderSize: '0.01', status: 'online' });
    prices[symbol] = `${50 + (i % 50) * 7}.00`;
  }
  return { specs, prices };
}

/** A replay bound: ISO-8601, epoch ms, or epoch µs (16 digits); µs since the epoch. */
function timeOption(name: string, text: string, fallback: number): number {
  if (text === '') return fallback;
  const us = /^\d{16}$/.test(text) ? Number(text) : parseTimestamp(text);
  if (!Number.isSafeInteger(us)) throw new BookcastError('CONFIG_INVALID', `${name} must be an ISO-8601 time or epoch milliseconds or microseconds, got "${text}"`);
  return us;
}

/** A journal replay's --from and --until (empty: unbounded). Throws CONFIG_INVALID. */
export function replayWindow(fromText: string, untilText: string): { from: number; until: number } {
  const from = timeOption('from', fromText, -Infinity);
  const until = timeOption('until', untilText, Infinity);
  if (from > until) throw new BookcastError('CONFIG_INVALID', `from (${fromText}) is after until (${untilText})`);
  return { from, until };
}

/** --store-events: the rows come from the live journal, which a replay does not write. */
function storeEvents(text: string, source: SourceConfig): boolean {
  if (text !== 'true' && text !== 'false') throw new BookcastError('CONFIG_INVALID', `store-events must be true or false, got "${text}"`);
  if (text === 'true' && isReplay(source)) {
    throw new BookcastError('CONFIG_INVALID', '--store-events stores the live journal; a replay (lobster:, journal:) writes none: its events are the recording');
  }
  return text === 'true';
}

/** --allowed-origins: each `scheme://host[:port]`, as browsers send the Origin header. */
function origins(text: string): string[] {
  const list = text.split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const origin of list) {
    if (!/^[a-z][a-z0-9+.-]*:\/\/[^\s/?#]+\/?$/i.test(origin)) {
      throw new BookcastError('CONFIG_INVALID', `allowed-origins: "${origin}" is not an origin (scheme://host[:port])`);
    }
  }
  return list;
}

function logLevel(text: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(text)) throw new BookcastError('CONFIG_INVALID', `log-level must be one of ${LOG_LEVELS.join(', ')}, got "${text}"`);
  return text as LogLevel;
}

/** A percentage with up to two decimals, 0 to 100. */
function percent(name: string, text: string): number {
  const value = Number(text);
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(text) || value > 100) throw new BookcastError('CONFIG_INVALID', `${name} must be a percentage from 0 to 100, got "${text}"`);
  return value;
}

function healthDetails(text: string): HealthDetails {
  if (!(HEALTH_DETAILS as readonly string[]).includes(text)) throw new BookcastError('CONFIG_INVALID', `health-details must be one of ${HEALTH_DETAILS.join(', ')}, got "${text}"`);
  return text as HealthDetails;
}

/** --tls-cert and --tls-key come together; a passphrase needs a key. */
function tls(cert: string, key: string, passphrase: string): Pick<Config, 'tlsCert' | 'tlsKey' | 'tlsPassphrase'> {
  if ((cert === '') !== (key === '')) throw new BookcastError('CONFIG_INVALID', '--tls-cert and --tls-key go together');
  if (passphrase !== '' && key === '') throw new BookcastError('CONFIG_INVALID', '--tls-passphrase needs --tls-key');
  return { tlsCert: cert || undefined, tlsKey: key || undefined, tlsPassphrase: passphrase || undefined };
}

function authMode(text: string): AuthMode {
  if (!(AUTH_MODES as readonly string[]).includes(text)) throw new BookcastError('CONFIG_INVALID', `auth must be one of ${AUTH_MODES.join(', ')}, got "${text}"`);
  return text as AuthMode;
}

/** A given secret must carry enough entropy to key the hashes: 32 characters at least. */
function authSecret(text: string): string {
  if (text !== '' && text.length < 32) throw new BookcastError('CONFIG_INVALID', 'auth-secret must be at least 32 characters (or empty to generate one)');
  return text;
}

/**
 * --fix-*: null without --fix-port. Under --auth off a port needs a sessions file (nobody could
 * log on otherwise); with access control on, API keys log on without one. Without a FIX
 * certificate of its own, the FIX port speaks TLS with the HTTPS one.
 */
function fixConfig(get: (flag: string) => string): FixConfig | null {
  const portText = get('fix-port');
  if (portText === '') return null;
  const sessionsFile = get('fix-sessions');
  if (sessionsFile === '' && get('auth') === 'off') throw new BookcastError('CONFIG_INVALID', '--fix-port needs --fix-sessions <file> (BOOKCAST_FIX_SESSIONS) under --auth off');
  const compId = get('fix-comp-id');
  if (!/^[\x21-\x7e]{1,64}$/.test(compId)) throw new BookcastError('CONFIG_INVALID', 'fix-comp-id must be 1 to 64 printable ASCII characters');
  const fixCert = get('fix-tls-cert');
  const fixKey = get('fix-tls-key');
  if ((fixCert === '') !== (fixKey === '')) throw new BookcastError('CONFIG_INVALID', '--fix-tls-cert and --fix-tls-key go together');
  const shared = fixCert === '';
  return {
    port: integer('fix-port', portText, 0, 65535),
    sessionsFile,
    compId,
    tlsCert: shared ? get('tls-cert') : fixCert,
    tlsKey: shared ? get('tls-key') : fixKey,
    tlsPassphrase: shared ? get('tls-passphrase') : '',
    maxMessageBytes: integer('fix-max-message-bytes', get('fix-max-message-bytes'), 256, 1024 * 1024),
    maxMessagesPerSecond: integer('fix-max-messages-per-second', get('fix-max-messages-per-second'), 1, 1_000_000),
    storeMessages: integer('fix-store-messages', get('fix-store-messages'), 1, 10_000_000),
  };
}

const DECIMAL_TEXT = /^\d+(\.\d+)?$/;
const BOOKCAST_SYMBOL = /^[A-Z0-9]+\/[A-Z0-9]+$/;

/**
 * --feed-symbols: `VENUE_SYMBOL[=BASE/QUOTE][@TICK/LOT[/MIN]]`, comma-separated. Without `=`, a
 * venue symbol spelled BASE/QUOTE or BASE-QUOTE keeps its name (others take the venue's base and
 * quote from its reference data); without `@`, tick and lot come from the venue at start.
 */
export function parseFeedSymbols(text: string): FeedSymbolSpec[] {
  const specs: FeedSymbolSpec[] = [];
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const at = entry.indexOf('@');
    const names = at < 0 ? entry : entry.slice(0, at);
    const sizes = at < 0 ? [] : entry.slice(at + 1).split('/');
    const eq = names.indexOf('=');
    const venueSymbol = (eq < 0 ? names : names.slice(0, eq)).trim();
    let symbol = eq < 0 ? '' : names.slice(eq + 1).trim().toUpperCase();
    if (eq < 0 && /^[A-Za-z0-9]+[/-][A-Za-z0-9]+$/.test(venueSymbol)) symbol = venueSymbol.toUpperCase().replace('-', '/');
    if (venueSymbol === '' || (symbol !== '' && !BOOKCAST_SYMBOL.test(symbol))) {
      throw new BookcastError('CONFIG_INVALID', `feed-symbols: "${entry}" is not VENUE_SYMBOL[=BASE/QUOTE][@TICK/LOT[/MIN]]`);
    }
    if (at >= 0 && (sizes.length < 2 || sizes.length > 3 || !sizes.every((d) => DECIMAL_TEXT.test(d) && Number(d) > 0))) {
      throw new BookcastError('CONFIG_INVALID', `feed-symbols: "${entry}": after @ come TICK/LOT or TICK/LOT/MIN, positive decimals`);
    }
    if (specs.some((s) => s.venueSymbol === venueSymbol || (symbol !== '' && s.symbol === symbol))) {
      throw new BookcastError('CONFIG_INVALID', `feed-symbols: "${entry}" names a symbol twice`);
    }
    specs.push({ venueSymbol, symbol, tickSize: sizes[0] ?? '', lotSize: sizes[1] ?? '', minOrderSize: sizes[2] ?? sizes[1] ?? '' });
  }
  return specs;
}

function feedSource(venue: string, get: (flag: string) => string): Extract<SourceConfig, { kind: 'feed' }> {
  if (!(FEED_VENUES as readonly string[]).includes(venue)) {
    throw new BookcastError('CONFIG_INVALID', `feed venue must be one of ${FEED_VENUES.join(', ')}, got "${venue}"`);
  }
  const symbols = parseFeedSymbols(get('feed-symbols'));
  if (symbols.length === 0) throw new BookcastError('CONFIG_INVALID', `--source feed:${venue} needs --feed-symbols (BOOKCAST_FEED_SYMBOLS)`);
  // 0 (Binance and Coinbase only: Kraken and Bitfinex take a depth from a list): every level.
  const depth = integer('feed-depth', get('feed-depth'), 0, 5000);
  if (depth === 0 && venue !== 'binance' && venue !== 'coinbase') throw new BookcastError('CONFIG_INVALID', 'feed-depth 0 (every level) is for Binance and Coinbase');
  if ((venue === 'kraken' || venue === 'kraken-v1') && ![10, 25, 100, 500, 1000].includes(depth)) {
    throw new BookcastError('CONFIG_INVALID', `feed-depth for Kraken must be 10, 25, 100, 500 or 1000, got ${depth}`);
  }
  if (venue === 'bitfinex' && ![1, 25, 100, 250].includes(depth)) {
    throw new BookcastError('CONFIG_INVALID', `feed-depth for Bitfinex must be 1, 25, 100 or 250, got ${depth}`);
  }
  for (const [flag, url] of [['feed-url', get('feed-url')], ['feed-rest-url', get('feed-rest-url')]]) {
    if (url !== '' && !/^(wss?|https?):\/\/[^\s]+$/.test(url)) throw new BookcastError('CONFIG_INVALID', `${flag} must be a ws(s):// or http(s):// URL, got "${url}"`);
  }
  return { kind: 'feed', venue: venue as FeedVenue, url: get('feed-url'), restUrl: get('feed-rest-url'), depth, symbols };
}

/** The instrument a feed symbol becomes ('' sizes until the venue's reference data fills them). */
export function feedInstrument(spec: FeedSymbolSpec): InstrumentSpec {
  const [base, quote] = spec.symbol.split('/');
  return { symbol: spec.symbol, base: base ?? '', quote: quote ?? '', tickSize: spec.tickSize, lotSize: spec.lotSize, minOrderSize: spec.minOrderSize, status: 'online' };
}

/** Flags win over environment variables, which win over defaults. Throws CONFIG_INVALID. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  const args = parseArgs(argv);
  const get = (flag: string): string => {
    const option = OPTIONS.find((o) => o.flag === flag)!;
    return args.get(flag) ?? env[option.env] ?? option.default;
  };

  const instruments: InstrumentSpec[] = [];
  const referencePrices: Record<string, string> = { ...REFERENCE_PRICES };
  const symbolList = get('symbols').trim();
  for (const name of symbolList === '' ? [] : symbolList.split(',')) {
    const symbol = name.trim().toUpperCase().replace('-', '/');
    const spec = DEFAULT_INSTRUMENTS.find((i) => i.symbol === symbol);
    if (!spec) {
      throw new BookcastError('CONFIG_INVALID', `unknown built-in symbol "${name}" (known: ${DEFAULT_INSTRUMENTS.map((i) => i.symbol).join(', ')})`);
    }
    if (!instruments.includes(spec)) instruments.push(spec);
  }
  const generated = generatedInstruments(integer('symbol-count', get('symbol-count'), 0, 10000));
  instruments.push(...generated.specs);
  Object.assign(referencePrices, generated.prices);
  // A feed's symbols come from --feed-symbols, a capture's from its header.
  if (instruments.length === 0 && !/^((feed|capture):|follow$|standby$)/.test(get('source'))) throw new BookcastError('CONFIG_INVALID', 'no symbols configured');

  const sourceText = get('source');
  let source: SourceConfig;
  if (sourceText === 'simulator') {
    source = { kind: 'simulator', rate: integer('rate', get('rate'), 1, 10_000_000), seed: integer('seed', get('seed'), 0, 2 ** 31) };
  } else if (sourceText === 'none') {
    source = { kind: 'none' };
  } else if (sourceText === 'ingest') {
    source = ingestSource(get);
  } else if (/^(lobster|journal):./.test(sourceText)) {
    const speed = Number(get('speed'));
    if (!(speed >= 0) || !Number.isFinite(speed)) throw new BookcastError('CONFIG_INVALID', `speed must be a number >= 0`);
    const replayTime = get('replay-time');
    if (replayTime !== 'now' && replayTime !== 'original') throw new BookcastError('CONFIG_INVALID', 'replay-time must be now or original');
    const file = sourceText.slice(8);
    const originalTime = replayTime === 'original';
    if (sourceText.startsWith('lobster:')) source = { kind: 'lobster', path: file, speed, originalTime };
    else {
      // The replay stores the trades, candles and snapshots it makes: in the data directory of the
      // journal's own live source they would land beside the live rows they repeat.
      if (path.resolve(file) === path.resolve(get('data-dir'), 'journal')) {
        throw new BookcastError('CONFIG_INVALID', `${file} is the live journal of --data-dir ${get('data-dir')}; copy it, or replay with another --data-dir`);
      }
      const { from, until } = replayWindow(get('from'), get('until'));
      source = { kind: 'journal', dir: file, from, until, speed, originalTime };
    }
  } else if (sourceText.startsWith('feed:')) {
    source = feedSource(sourceText.slice(5), get);
    instruments.length = 0;
    instruments.push(...source.symbols.map(feedInstrument));
  } else if (sourceText === 'follow') {
    const redisUrl = get('redis-url');
    if (redisUrl === '') throw new BookcastError('CONFIG_INVALID', '`bookcast edge` needs --redis-url (REDIS_URL): the Redis its primary publishes to');
    source = { kind: 'follow', redisUrl };
  } else if (sourceText === 'standby') {
    const redisUrl = get('redis-url');
    if (redisUrl === '') throw new BookcastError('CONFIG_INVALID', '`bookcast standby` needs --redis-url (REDIS_URL): the Redis its primary publishes to');
    if (get('lease-ms') === '0') throw new BookcastError('CONFIG_INVALID', '`bookcast standby` needs --lease-ms, the same as its primary\'s');
    source = { kind: 'standby', redisUrl, ingest: ingestSource(get) };
  } else if (/^capture:./.test(sourceText)) {
    const speed = Number(get('speed'));
    if (!(speed >= 0) || !Number.isFinite(speed)) throw new BookcastError('CONFIG_INVALID', `speed must be a number >= 0`);
    const replayTime = get('replay-time');
    if (replayTime !== 'now' && replayTime !== 'original') throw new BookcastError('CONFIG_INVALID', 'replay-time must be now or original');
    // The symbols are in the capture's header; feeds/feed-reference.ts reads them at start.
    source = { kind: 'capture', path: sourceText.slice(8), speed, originalTime: replayTime === 'original' };
    instruments.length = 0;
  } else {
    throw new BookcastError('CONFIG_INVALID', `source must be "simulator", "ingest", "none", "lobster:<message.csv>", "journal:<dir>", "feed:<${FEED_VENUES.join('|')}>" or "capture:<file>", got "${sourceText}"`);
  }

  const softBackpressure = integer('soft-backpressure', get('soft-backpressure'), 1024, 2 ** 30);
  const maxBackpressure = integer('max-backpressure', get('max-backpressure'), 1024, 2 ** 30);
  if (maxBackpressure <= softBackpressure) {
    throw new BookcastError('CONFIG_INVALID', 'max-backpressure must be larger than soft-backpressure');
  }
  const maxConnections = integer('max-connections', get('max-connections'), 1, 10_000_000);
  const perIpText = get('max-connections-per-ip');
  const maxConnectionsPerIp = perIpText === '' ? Math.max(1, Math.floor(maxConnections / 4)) : integer('max-connections-per-ip', perIpText, 1, 10_000_000);
  return {
    host: get('host'),
    port: integer('port', get('port'), 0, 65535),
    workers: integer('workers', get('workers'), 1, 64),
    instruments,
    referencePrices,
    source,
    heartbeatMs: integer('heartbeat-ms', get('heartbeat-ms'), 100, 600_000),
    softBackpressure,
    maxBackpressure,
    maxMessageBytes: integer('max-message-bytes', get('max-message-bytes'), 64, 1024 * 1024),
    resumeMessages: integer('resume-messages', get('resume-messages'), 1, 1_000_000),
    resumeBytes: integer('resume-bytes', get('resume-bytes'), 1024, 2 ** 30),
    shutdownSpreadMs: integer('shutdown-spread-ms', get('shutdown-spread-ms'), 0, 600_000),
    maxMessagesPerSecond: integer('max-messages-per-second', get('max-messages-per-second'), 1, 1_000_000),
    maxSubscriptionsPerConnection: integer('max-subscriptions', get('max-subscriptions'), 1, 1_000_000),
    maxConnections,
    maxConnectionsPerIp: Math.min(maxConnectionsPerIp, maxConnections),
    allowedOrigins: origins(get('allowed-origins')),
    healthDetails: healthDetails(get('health-details')),
    dataDir: get('data-dir'),
    databaseUrl: get('database-url') || undefined,
    snapshotIntervalMs: integer('snapshot-interval-ms', get('snapshot-interval-ms'), 1000, 86_400_000),
    snapshotDepth: integer('snapshot-depth', get('snapshot-depth'), 1, MIRROR_DEPTH),
    batchRows: integer('batch-rows', get('batch-rows'), 1, 1_000_000),
    batchMs: integer('batch-ms', get('batch-ms'), 1, 60_000),
    checkpointEvents: integer('checkpoint-events', get('checkpoint-events'), 0, 2 ** 40),
    checkpointIntervalMs: integer('checkpoint-interval-ms', get('checkpoint-interval-ms'), 0, 86_400_000),
    journalRetentionHours: integer('journal-retention-hours', get('journal-retention-hours'), 0, 87_600),
    journalFsyncMs: integer('journal-fsync-ms', get('journal-fsync-ms'), 0, 1000),
    storeEvents: storeEvents(get('store-events'), source),
    heavyQueue: integer('heavy-queue', get('heavy-queue'), 0, 10_000),
    heavyPerClient: integer('heavy-per-client', get('heavy-per-client'), 1, 10_000),
    redisTimeoutMs: integer('redis-timeout-ms', get('redis-timeout-ms'), 1, 60_000),
    publicRate: ratePolicy('public-rate', get('public-rate')),
    ...tls(get('tls-cert'), get('tls-key'), get('tls-passphrase')),
    signSnapshots: flag('sign-snapshots', get('sign-snapshots')),
    signingKey: get('signing-key') || undefined,
    usageAccounting: flag('usage-accounting', get('usage-accounting')),
    anonymizeIp: flag('anonymize-ip', get('anonymize-ip')),
    auth: authMode(get('auth')),
    authSecret: authSecret(get('auth-secret')),
    authTokenTtlS: integer('auth-token-ttl', get('auth-token-ttl'), 10, 86_400),
    authRefreshTtlS: integer('auth-refresh-ttl', get('auth-refresh-ttl'), 60, 31_536_000),
    authIssuer: get('auth-issuer'),
    redisUrl: get('redis-url') || undefined,
    replicationPrefix: get('replication-prefix'),
    replicationRetention: integer('replication-retention', get('replication-retention'), 1000, 2 ** 40),
    leaseMs: integer('lease-ms', get('lease-ms'), 0, 600_000),
    cachePrefix: get('cache-prefix'),
    fix: fixConfig(get),
    logLevel: logLevel(get('log-level')),
    metrics: {
      windowMs: integer('metrics-window-ms', get('metrics-window-ms'), 600, 3_600_000),
      alertIntervalMs: integer('alert-interval-ms', get('alert-interval-ms'), 10, 600_000),
      alertForMs: integer('alert-for-ms', get('alert-for-ms'), 0, 86_400_000),
      latencyP99Us: integer('alert-latency-p99-us', get('alert-latency-p99-us'), 1, 60_000_000),
      queueDepth: integer('alert-queue-depth', get('alert-queue-depth'), 0, 2 ** 40),
      connectionFailurePercent: percent('alert-connection-failure-percent', get('alert-connection-failure-percent')),
      storageFreePercent: percent('alert-storage-free-percent', get('alert-storage-free-percent')),
    },
  };
}

/** `--source ingest`, and what a standby becomes when it promotes: publishers on /ingest. */
function ingestSource(get: (flag: string) => string): IngestSourceConfig {
  const token = get('publisher-token');
  if (token.length < 16) throw new BookcastError('CONFIG_INVALID', '--source ingest (and `bookcast standby`) needs --publisher-token (BOOKCAST_PUBLISHER_TOKEN) of at least 16 characters');
  return {
    kind: 'ingest',
    token,
    maxBatchEvents: integer('ingest-max-batch-events', get('ingest-max-batch-events'), 1, 1_000_000),
    maxBatchBytes: integer('ingest-max-batch-bytes', get('ingest-max-batch-bytes'), 1024, 64 * 1024 * 1024),
  };
}
