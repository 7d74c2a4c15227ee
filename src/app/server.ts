import * as path from 'node:path';
import { rm } from 'node:fs/promises';
import type { TemplatedApp } from 'uWebSockets.js';
import { Piscina } from 'piscina';
import { Config, FixConfig, isReplay } from '../config';
import { BookcastError } from '../errors';
import { MIRROR_DEPTH } from '../model/depths';
import type { Instrument } from '../model/instruments';
import { SRC_PROMOTE, SRC_STATS_WORDS } from '../model/source-words';
import { checkMemoryOrder } from '../ring/memory-order';
import { RingGroup } from '../ring/ring-group';
import { SpscRing } from '../ring/spsc-ring';
import { BookMirrorReader } from '../engine/book-mirror';
import { CHECKPOINTS_DIR } from '../engine/checkpoint-files';
import { WorkerPool } from '../engine/worker-pool';
import type { IngestBuffers } from '../source/ingest-protocol';
import { Persistence } from '../store/persistence';
import type { BookAtAnswer, BookAtRequest } from '../gateway/book-at-task';
import { Conflator } from '../distribution/conflator';
import { Distributor } from '../distribution/distributor';
import { HeartbeatRounds } from '../distribution/heartbeat-rounds';
import { RecentTrades } from '../distribution/recent-trades';
import { RecentMessages } from '../distribution/recent-messages';
import { SessionHub } from '../distribution/session-hub';
import type { Outlet } from '../distribution/session';
import { FORMAT_BINARY, FORMAT_FEED_JSON, FORMAT_FIX, FORMAT_MARKET_DATA, StreamTable } from '../distribution/streams';
import { FixAcceptor } from '../fix/fix-acceptor';
import { FixSessionList } from '../fix/fix-credentials';
import { FixApiKeys } from '../fix/fix-api-keys';
import { CurrencyConverter } from '../gateway/currency-converter';
import { CredentialSweep } from '../gateway/credential-sweep';
import { installAdmission, sendError, ServedRoute, servedRoutes } from '../gateway/http';
import { Admission } from '../auth/admission';
import { AuthService } from '../auth/auth-service';
import { openServerAuthPool } from '../auth/auth-database';
import { loadServerSecret } from '../auth/server-secret';
import { AuthRoutes } from '../gateway/auth-routes';
import { registerApiDocs } from '../api-docs/api-docs-routes';
import { registerDashboard } from '../dashboard/dashboard-routes';
import { IngestGateway } from '../gateway/ingest-gateway';
import { MarketDataRoutes } from '../gateway/market-data-routes';
import { MarketSnapshots } from '../gateway/market-snapshot';
import { RecentCandles } from '../gateway/recent-candles';
import { RestRoutes } from '../gateway/rest-routes';
import { SymbolLookup } from '../gateway/symbol-lookup';
import { loadUws } from '../gateway/uws';
import { WsGateway } from '../gateway/ws-gateway';
import { UwsTopics } from '../gateway/uws-outlet';
import { HeavyWork } from '../gateway/heavy-work';
import { UpgradeGuard } from '../gateway/upgrade-guard';
import { AcceptGate } from '../gateway/accept-gate';
import { showsHealthDetails } from '../gateway/health-access';
import { log, setLogLevel } from '../util/log';
import { unreachableConnections } from '../util/descriptor-budget';
import { ClientSlots } from '../gateway/client-slots';
import type { Caller } from '../auth/caller';
import { publicTier, rateLimiter } from './limits';
import { RateRollup } from '../limits/rate-rollup';
import { rateLimitHook } from '../limits/rate-limit-hook';
import { SnapshotSigner } from '../limits/snapshot-signer';
import { UsageBatcher } from '../accounting/usage-batcher';
import { AnswerMeter } from '../gateway/answer-meter';
import { UsageRoutes } from '../gateway/usage-routes';
import { makeApp } from '../gateway/tls-app';
import { startFrontLoop } from './front-loop';
import { buildObservability, Observability } from './observability';
import { healthReport, publicHealthReport } from './health';
import { pickInstruments } from './instruments';
import { startSourceThread } from './source-thread';
import { resolveFeedSource } from '../feeds/feed-reference';
import { openHistoryCache } from './history-cache';
import { CacheRoutes } from '../gateway/cache-routes';
import { feedWordsLength } from '../model/feed-words';
import { bootstrapFollower } from '../edge/follow-bootstrap';
import { followerHealth, registerReplicationMetrics } from '../edge/replication-status';
import { buildReplication } from './replication';

/** The exchange name the Market Data API reports for every snapshot. */
const EXCHANGE = 'bookcast';
/** Room for ~58k accepted events between the front and the source thread. */
const INGEST_RING_BYTES = 4 * 1024 * 1024;
/** How long a stop waits for accepted ingest events to become durable. */
const SETTLE_MS = 10_000;

/** What tests and embedders may set beyond the configuration. */
export interface ServerOptions {
  /** Wall clock in ms since the epoch for credential expiry (tokens, WebSocket sessions); tests advance it. */
  clock?: () => number;
}

/** How often open WebSocket connections are checked for credentials that ran out. */
const CREDENTIAL_SWEEP_MS = 250;

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** HTTPS and WSS (--tls-cert): URLs start https:// and wss://. */
  readonly tls: boolean;
  readonly instruments: readonly Instrument[];
  /** Book worker threads actually started (never more than instruments). */
  readonly workers: number;
  /** Resolves when a fatal error (a worker died) stops the server; never resolves otherwise. */
  readonly failed: Promise<BookcastError>;
  /** The distribution core, where consumers other than the WebSocket sessions plug in. */
  readonly distributor: Distributor;
  /** Every WebSocket and FIX session and its slow-consumer ladder. */
  readonly hub: SessionHub;
  /** Who may reach what; limits/ installs its hook as `admission.limit`. */
  readonly admission: Admission;
  /** The FIX acceptor's port (--fix-port), or null without FIX. */
  readonly fixPort: number | null;
  /** Every endpoint served (gateway/http.ts servedRoutes): the API-description test compares it with the documents. */
  readonly routes: readonly ServedRoute[];
  /** Metrics (/metrics) and the alert evaluator (/api/v1/alerts). */
  readonly observability: Observability;
  stop(): Promise<void>;
}

/** Book workers first, then persistence (it reads their persist rings); a persistence failure stops the pool. */
async function startEngine(config: Config, instruments: Instrument[], sourceStats: Float64Array, fail: (err: BookcastError) => void) {
  const journalDir = path.join(config.dataDir, 'journal');
  const checkpointDir = path.join(config.dataDir, CHECKPOINTS_DIR);
  const pool = new WorkerPool(instruments, config.workers, {
    snapshotIntervalMs: config.snapshotIntervalMs,
    snapshotDepth: config.snapshotDepth,
    checkpoints: isReplay(config.source) ? null : { dir: checkpointDir, journalDir, retentionMs: config.journalRetentionHours * 3_600_000 },
  });
  const persistence = new Persistence(pool.channels.map((c) => c.persistRing), pool.persistDoorbell, instruments, {
    // An edge writes nothing to the shared database: the primary stores; the edge's rows stay in its scratch directory.
    databaseUrl: config.source.kind === 'follow' || config.source.kind === 'standby' ? undefined : config.databaseUrl,
    dataDir: config.dataDir,
    batchRows: config.batchRows,
    batchMs: config.batchMs,
    events: config.storeEvents ? { journalDir, sourceStats: sourceStats.buffer as SharedArrayBuffer } : null,
  });
  try {
    await persistence.start((err) => fail(err));
  } catch (err) {
    await pool.stop();
    throw err;
  }
  await pool.start((err) => fail(err));
  return { pool, persistence, journalDir, checkpointDir };
}

/**
 * The distribution core and its consumers: the WebSocket sessions (both dialects, uWS topics as
 * their outlets) and the recent trades and candles REST answers from.
 */
function buildStreaming(config: Config, app: TemplatedApp, instruments: Instrument[], pool: WorkerPool, symbols: SymbolLookup, guard: UpgradeGuard, auth: AuthService | null) {
  const streams = new StreamTable(instruments);
  const formats = instruments.map((i) => ({ priceDecimals: i.priceDecimals, sizeDecimals: i.sizeDecimals }));
  const conflator = new Conflator(streams, formats);
  const distributor = new Distributor(pool.channels.map((c) => c.out), streams, pool);
  const trades = new RecentTrades(instruments.length);
  const candles = new RecentCandles(instruments.length);
  distributor.tap(trades);
  distributor.tap(candles);
  const recent = new RecentMessages(streams, config.resumeMessages, config.resumeBytes);
  distributor.keepRecent(recent);
  const outlets: Outlet[] = [];
  outlets[FORMAT_BINARY] = new UwsTopics(app, 'b', streams.count);
  outlets[FORMAT_FEED_JSON] = new UwsTopics(app, 'j', streams.count);
  outlets[FORMAT_MARKET_DATA] = new UwsTopics(app, 'm', streams.count);
  const fix = config.fix === null ? null : buildFix(config, config.fix, streams, instruments, auth);
  if (fix !== null) outlets[FORMAT_FIX] = fix.outlet;
  const limits = { softBackpressure: config.softBackpressure, maxBackpressure: config.maxBackpressure };
  const hub = new SessionHub(distributor, streams, outlets, formats, conflator, trades, limits, instruments, recent);
  fix?.attach(hub);
  const ws = new WsGateway(config, symbols, streams, hub, instruments, guard);
  return { conflator, trades, candles, distributor, hub, ws, fix };
}

/** The FIX acceptor (src/fix/): a SessionHub format of its own, sessions from --fix-sessions and, with access control, API keys. */
function buildFix(config: Config, fix: FixConfig, streams: StreamTable, instruments: Instrument[], auth: AuthService | null): FixAcceptor {
  const options = { ...fix, host: config.host, dataDir: config.dataDir, maxSubscriptions: config.maxSubscriptionsPerConnection };
  const fixed = fix.sessionsFile === '' ? null : new FixSessionList(fix.sessionsFile);
  return new FixAcceptor(options, streams, instruments, auth === null ? fixed! : new FixApiKeys(auth, fixed));
}

/**
 * Access control's store and token keys (`--auth optional|required`): clients and keys in the one
 * store (with DATABASE_URL a pool of their own on it, else the persistence worker's SQL relay to
 * the embedded PGlite it owns), the server secret loaded before anything starts.
 */
async function startAuth(config: Config, clock: () => number, serverSecret: Buffer, persistence: Persistence): Promise<AuthService> {
  const db = config.databaseUrl ? await openServerAuthPool(config.databaseUrl) : persistence.sqlRelay();
  try {
    const service = new AuthService(db, {
      serverSecret: new Uint8Array(serverSecret),
      issuer: config.authIssuer,
      tokenTtlS: config.authTokenTtlS,
      refreshTtlS: config.authRefreshTtlS,
      clock,
    });
    await service.start();
    if (config.redisUrl) await service.share(config.redisUrl);
    return service;
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** Starts workers, persistence, source and the uWS front thread; resolves once it listens. */
export async function startServer(configured: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? Date.now;
  setLogLevel(configured.logLevel);
  checkMemoryOrder();
  const uws = loadUws();
  // A feed's tick and lot may come from the venue, a capture's symbols from its header.
  // An edge runs the primary's symbols and worker count, from the primary's checkpoint (edge/follow-bootstrap.ts).
  const config = await bootstrapFollower(await resolveFeedSource(configured));
  // Before anything starts: a certificate that does not load stops nothing but this.
  const app = makeApp(uws, config.tlsCert === undefined ? null : { cert: config.tlsCert, key: config.tlsKey!, passphrase: config.tlsPassphrase });
  const instruments = pickInstruments(config);
  const startedAt = Date.now();
  let fail!: (err: BookcastError) => void;
  const failed = new Promise<BookcastError>((resolve) => (fail = resolve));

  // Made before the persistence worker, which reads the journal's durable sequence from it (--store-events).
  const sourceStats = new Float64Array(new SharedArrayBuffer(SRC_STATS_WORDS * 8));
  const feedStats = config.source.kind === 'feed' || config.source.kind === 'capture' ? new Float64Array(new SharedArrayBuffer(feedWordsLength(instruments.length) * 8)) : undefined;
  // A bad secret stops the start before any thread runs.
  const serverSecret = config.auth === 'off' ? null : loadServerSecret(config.authSecret, config.dataDir);
  const engine = await startEngine(config, instruments, sourceStats, fail);
  const { pool, persistence, journalDir, checkpointDir } = engine;
  // After the persistence worker: it migrates the store, and owns it when embedded.
  let auth: AuthService | null;
  try {
    auth = serverSecret === null ? null : await startAuth(config, clock, serverSecret, persistence);
  } catch (err) {
    await pool.stop();
    await persistence.stop();
    throw err;
  }

  // Anonymous callers (and everyone under --auth off) get the public tier's budget from the options.
  const admission = new Admission(config.auth, auth, publicTier(config));
  const limiter = rateLimiter(config);
  // The limiter's decisions, per subject and minute, ride along with the usage batches (rate_limit_buckets).
  const rollup = config.usageAccounting ? new RateRollup() : null;
  admission.limit = rateLimitHook(limiter, rollup);
  installAdmission(app, admission);
  // Usage rows, RateLimit headers and snapshot signatures are added to answers as they are written (answer-meter.ts).
  const signer = config.signSnapshots ? SnapshotSigner.load(config.signingKey) : null;
  const usage = config.usageAccounting ? new UsageBatcher((batch, buckets) => persistence.recordUsage(batch, buckets), config.anonymizeIp, rollup) : null;
  new AnswerMeter({ record: usage === null ? null : (row) => usage.record(row), sign: signer === null ? null : (body) => signer.sign(body) }, signer?.keyId ?? '').install(app);
  const symbols = new SymbolLookup(instruments);
  const guard = new UpgradeGuard(config);
  const gate = new AcceptGate(uws, app, config.host);
  const unreachable = unreachableConnections(config.maxConnections, gate.budget);
  if (unreachable !== null) log.warn({ max_connections: config.maxConnections, file_limit: gate.budget.fileLimit }, unreachable);
  const { conflator, trades, candles, distributor, hub, ws, fix } = buildStreaming(config, app, instruments, pool, symbols, guard, auth);
  // WebSocket connections are metered (one usage row each) and their snapshots and heartbeats signed alike.
  ws.usage = usage === null ? null : (row) => usage.record(row);
  if (signer !== null) {
    hub.snapshotSignature = (message, format) => signer.frame(message, format === FORMAT_MARKET_DATA);
    ws.signature = (message, marketData) => signer.frame(message, marketData);
  }
  // A standby takes publishers once it is promoted.
  const ingestConfig = config.source.kind === 'ingest' ? config.source : config.source.kind === 'standby' ? config.source.ingest : null;
  const ingestBuffers: IngestBuffers | undefined = ingestConfig !== null ? { ring: SpscRing.allocate(INGEST_RING_BYTES), frontDoorbell: pool.frontDoorbellBuffer } : undefined;
  const ingest = new IngestGateway(ingestConfig, symbols, ingestBuffers, sourceStats, guard);

  ws.register(app);
  ingest.register(app);
  // Heavy REST work (rebuilding a past book from the journal) runs in one thread, kept alive for
  // its journal time index, behind a bounded queue with a per-client cap (gateway/heavy-work.ts).
  const heavy = new Piscina({ filename: path.join(__dirname, '..', 'gateway', 'book-at-task.js'), minThreads: 1, maxThreads: 1, idleTimeout: Infinity });
  // One cap per client over every kind of heavy request (client-slots.ts).
  const heavySlots = new ClientSlots();
  const heavyWork = new HeavyWork<BookAtRequest, BookAtAnswer>((task) => heavy.run({ ...task, journalDir, checkpointDir }), { concurrency: 1, maxQueued: config.heavyQueue }, heavySlots);
  const observability = buildObservability(app, {
    config, instruments, sourceStats, pool, persistence, hub, ws, fix, ingest, ingestRing: ingestBuffers?.ring ?? null, heavyQueued: () => heavyWork.queued, feedStats,
  });
  const bookAt = isReplay(config.source)
    ? null
    : (task: BookAtRequest, caller: Caller, signal: AbortSignal) => heavyWork.submit(caller.subject, caller.limits.heavyConcurrent, task, signal);
  // A primary's publisher and lease, or a standby's lease watch (app/replication.ts).
  // A standby holds no clients until it is the primary.
  if (config.source.kind === 'standby') ws.refusal = 'NOT_PRIMARY';
  const replicated = buildReplication(config, instruments, pool, sourceStats, journalDir, ingest, () => {
    sourceStats[SRC_PROMOTE] = 1;
    ws.refusal = null;
  });
  const follower = config.source.kind === 'follow' ? sourceStats : null;
  registerReplicationMetrics(observability.metrics.registry, follower, replicated.publisher, replicated.lease);
  const replication = replicated.health ?? (follower !== null ? () => followerHealth(follower) : null);
  const health = healthReport({ replication, config, instruments, startedAt, sourceStats, feedStats, pool, persistence, ingest, hub, guard, gate, heavyWork, heavySlots, limiter, usage });
  const publicHealth = publicHealthReport(startedAt);
  const mirror = new BookMirrorReader(pool.mirror, instruments.length, MIRROR_DEPTH);
  const { cache: historyCache, reads: historyReads } = openHistoryCache(config, persistence);
  new RestRoutes(symbols, mirror, trades, candles, persistence, bookAt, (res, req, caller) => (showsHealthDetails(config.healthDetails, res, req, caller) ? health() : publicHealth()), isReplay(config.source), historyReads).register(app);
  const snapshots = new MarketSnapshots(new BookMirrorReader(pool.mirror, instruments.length, MIRROR_DEPTH), new CurrencyConverter(instruments));
  new MarketDataRoutes(symbols, snapshots, EXCHANGE, config.source.kind, persistence, heavySlots, historyReads).register(app);
  new CacheRoutes(historyCache).register(app);
  new UsageRoutes(persistence, signer === null ? null : signer.jwks(), usage !== null).register(app);
  if (auth !== null) {
    new AuthRoutes(auth).register(app);
    auth.onRevoked = (kind, id) => ws.closeRevoked(kind, id);
  }
  registerApiDocs(app);
  registerDashboard(app);
  app.any('/*', (res) => sendError(res, 'NOT_FOUND'));

  const source = startSourceThread(config, instruments, pool, sourceStats, ingestBuffers, ingest, fail, feedStats);
  const stopFrontLoop = startFrontLoop(
    () => {
      const work = distributor.poll() + ingest.poll();
      // After each read, a slice of the sessions' buffers: the slow-consumer ladder acts early.
      hub.watch();
      return work;
    },
    // Control requests behind a full ring: retried once more here, and soon again while any wait.
    () => pool.flushControl() > 0,
    new RingGroup(pool.frontDoorbell, pool.channels.map((c) => c.out)),
    pool.spareCore,
  );
  const heartbeats = new HeartbeatRounds(config.heartbeatMs, hub.sessions);
  heartbeats.start();
  const credentialSweep = new CredentialSweep(() => ws.expireCredentials(clock()), CREDENTIAL_SWEEP_MS);
  ws.credentialsExpiring = () => credentialSweep.arm();

  let stopping = false;
  /** Stops in order: no new input, books finish what they have, storage writes what they made. */
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    source.beginStop();
    stopFrontLoop();
    observability.stop();
    heartbeats.stop();
    conflator.stop();
    credentialSweep.stop();
    ws.shutdown(config.shutdownSpreadMs);
    await fix?.close();
    ingest.closePublisher();
    gate.close();
    // What a publisher was told is accepted reaches the journal before the source stops.
    const settleBy = Date.now() + SETTLE_MS;
    while (!ingest.settled() && Date.now() < settleBy && !source.exited()) {
      ingest.poll();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await source.stop();
    await replicated.stop();
    await pool.drain();
    await pool.stop();
    usage?.flush();
    // Before the persistence worker, whose SQL relay it may be using.
    await auth?.close();
    await persistence.stop();
    await heavy.destroy();
    await limiter.close();
    // An edge's scratch directory (its copy of the checkpoint) is its own, made at start.
    if (config.source.kind === 'follow') await rm(config.dataDir, { recursive: true, force: true });
    await historyCache.close();
    // Last, with every answer given: the idle keep-alive HTTP connections end with the server
    // instead of staying open until each client's own timeout.
    app.close();
  };

  let fixPort: number | null = null;
  try {
    // A live source first replays its journal; the books apply it before anyone can connect.
    await Promise.race([source.ready, failed.then((err) => Promise.reject(err))]);
    await pool.drain();
    observability.start();
    await replicated.start();
    gate.listen(config.port);
    if (fix !== null) fixPort = await fix.listen();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    host: config.host,
    port: gate.port,
    tls: config.tlsCert !== undefined,
    instruments,
    workers: pool.channels.length,
    failed,
    distributor,
    hub,
    admission,
    fixPort,
    routes: servedRoutes(app),
    observability,
    stop,
  };
}
