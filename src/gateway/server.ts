import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { us_listen_socket } from 'uWebSockets.js';
import { Config, isLive, isReplay } from '../config';
import { REJECT_NAMES } from '../model/book-types';
import { BookMirrorReader } from '../engine/book-mirror';
import { MIRROR_DEPTH } from '../model/depths';
import { Instrument, toInstrument } from '../model/instruments';
import { WorkerPool } from '../engine/worker-pool';
import { S_ACCEPTED, S_BATCHES, S_OUT_WAITS, S_REJECTED } from '../engine/worker-protocol';
import { BookcastError } from '../errors';
import { lobsterFiles } from '../source/lobster-files';
import { lobsterInstrument } from '../source/lobster-translator';
import { journalInstruments } from '../source/journal-replay';
import { SourceReport, SourceWorkerData, SRC_DONE, SRC_EMITTED, SRC_RESTORED, SRC_RESTORE_MS, SRC_STATS_WORDS, SRC_STOP, SRC_WAITS } from '../source/source-protocol';
import { sendError } from './http';
import { RecentTrades } from '../distribution/recent-trades';
import { RecentCandles } from './recent-candles';
import { Conflator } from '../distribution/conflator';
import { RestRoutes } from './rest-routes';
import { CurrencyConverter } from './currency-converter';
import { MarketDataRoutes } from './market-data-routes';
import { MarketSnapshots } from './market-snapshot';
import { FORMAT_BINARY, FORMAT_FEED_JSON, FORMAT_MARKET_DATA, StreamTable } from '../distribution/streams';
import { Distributor } from '../distribution/distributor';
import { SessionHub } from '../distribution/session-hub';
import { FrontLoop } from '../distribution/front-loop';
import { HEARTBEAT_TICK_MS, HeartbeatRounds } from '../distribution/heartbeat-rounds';
import { UwsTopics } from './uws-outlet';
import { SymbolLookup } from './symbol-lookup';
import { loadUws } from './uws';
import { checkMemoryOrder } from '../ring/memory-order';
import { RingGroup } from '../ring/ring-group';
import { WsGateway } from './ws-gateway';
import { Persistence } from '../store/persistence';
import { SpscRing } from '../ring/spsc-ring';
import type { IngestBuffers } from '../source/ingest-protocol';
import { IngestGateway } from './ingest-gateway';
import { Piscina } from 'piscina';
import type { BookAtAnswer, BookAtRequest } from './book-at-task';
import { CHECKPOINTS_DIR } from '../engine/checkpoint-files';
import { UpgradeGuard } from './upgrade-guard';
import { showsHealthDetails } from './health-access';

/** The exchange name the Market Data API reports for every snapshot. */
const EXCHANGE = 'bookcast';
/** How often throttled subscriptions are looked at; the finest throttle is 100 ms. */
const CONFLATION_TICK_MS = 25;
/** Room for ~58k accepted events between the front and the source thread. */
const INGEST_RING_BYTES = 4 * 1024 * 1024;
/** How long a stop waits for accepted ingest events to become durable. */
const SETTLE_MS = 10_000;
/** How long a stop waits for a live source to close its journal before it is terminated. */
const SOURCE_STOP_MS = 2_000;

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly instruments: readonly Instrument[];
  /** Book worker threads actually started (never more than instruments). */
  readonly workers: number;
  /** Resolves when a fatal error (a worker died) stops the server; never resolves otherwise. */
  readonly failed: Promise<BookcastError>;
  /** The distribution core, where consumers other than the WebSocket sessions plug in. */
  readonly distributor: Distributor;
  stop(): Promise<void>;
}

/** Starts workers, source and the uWS front thread; resolves once it listens. */
export async function startServer(config: Config): Promise<RunningServer> {
  checkMemoryOrder();
  const uws = loadUws();
  // A recording brings its own instruments; the simulator uses the configured ones.
  const instruments =
    config.source.kind === 'lobster'
      ? [lobsterInstrument(lobsterFiles(config.source.path).ticker, 0)]
      : config.source.kind === 'journal'
        ? journalInstruments(config.source.dir)
        : config.instruments.map((spec, i) => toInstrument(spec, i));
  const startedAt = Date.now();
  let fail!: (err: BookcastError) => void;
  const failed = new Promise<BookcastError>((resolve) => (fail = resolve));

  const journalDir = path.join(config.dataDir, 'journal');
  const checkpointDir = path.join(config.dataDir, CHECKPOINTS_DIR);
  const pool = new WorkerPool(instruments, config.workers, {
    snapshotIntervalMs: config.snapshotIntervalMs,
    snapshotDepth: config.snapshotDepth,
    checkpoints: isReplay(config.source) ? null : { dir: checkpointDir, journalDir, retentionMs: config.journalRetentionHours * 3_600_000 },
  });
  // Made before the persistence worker, which reads the journal's durable sequence from it (--store-events).
  const sourceStats = new Float64Array(new SharedArrayBuffer(SRC_STATS_WORDS * 8));
  const persistence = new Persistence(pool.channels.map((c) => c.persistRing), pool.persistDoorbell, instruments, {
    databaseUrl: config.databaseUrl,
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

  const app = uws.App();
  const streams = new StreamTable(instruments);
  const formats = instruments.map((i) => ({ priceDecimals: i.priceDecimals, sizeDecimals: i.sizeDecimals }));
  const conflator = new Conflator(streams, formats);
  const distributor = new Distributor(pool.channels.map((c) => c.out), streams, pool);
  const trades = new RecentTrades(instruments.length);
  const candles = new RecentCandles(instruments.length);
  distributor.tap(trades);
  distributor.tap(candles);
  const outlets = [];
  outlets[FORMAT_BINARY] = new UwsTopics(app, 'b', streams.count);
  outlets[FORMAT_FEED_JSON] = new UwsTopics(app, 'j', streams.count);
  outlets[FORMAT_MARKET_DATA] = new UwsTopics(app, 'm', streams.count);
  const limits = { softBackpressure: config.softBackpressure, maxBackpressure: config.maxBackpressure, maxSubscriptions: config.maxSubscriptionsPerConnection };
  const hub = new SessionHub(distributor, streams, outlets, formats, conflator, trades, limits, instruments);
  const symbols = new SymbolLookup(instruments);
  const guard = new UpgradeGuard(config);
  const ws = new WsGateway(config, symbols, streams, hub, instruments, guard);
  const ingestBuffers: IngestBuffers | undefined =
    config.source.kind === 'ingest'
      ? { ring: SpscRing.allocate(INGEST_RING_BYTES), frontDoorbell: pool.frontDoorbellBuffer }
      : undefined;
  const ingest = new IngestGateway(config.source.kind === 'ingest' ? config.source : null, symbols, ingestBuffers, sourceStats, guard);

  // What anyone may see; the rest only where showsHealthDetails allows (health-access.ts).
  const publicHealth = () => ({ status: 'ok', uptime_s: Math.round((Date.now() - startedAt) / 1000) });
  const health = () => ({
    ...publicHealth(),
    source: {
      kind: config.source.kind,
      replay: isReplay(config.source),
      events: sourceStats[SRC_EMITTED],
      restored_from_journal: sourceStats[SRC_RESTORED],
      restore_ms: sourceStats[SRC_RESTORE_MS],
      waits: sourceStats[SRC_WAITS],
      done: sourceStats[SRC_DONE] === 1,
    },
    workers: pool.channels.map((c, index) => ({
      index,
      symbols: instruments.filter((i) => pool.ownerOf[i.index] === index).map((i) => i.symbol),
      accepted: c.stats[S_ACCEPTED],
      rejected: Object.fromEntries(REJECT_NAMES.map((name, code) => [name, c.stats[S_REJECTED + code]]).filter(([, n]) => n !== 0 && n !== undefined).slice(0)),
      batches: c.stats[S_BATCHES],
      out_waits: c.stats[S_OUT_WAITS],
    })),
    persistence: persistence.health(),
    checkpoints: pool.checkpoints?.health() ?? null,
    ...(config.source.kind === 'ingest' ? { ingest: ingest.health() } : {}),
    connections: hub.sessions.size,
    connection_limits: guard.health(),
    slow_consumer_resyncs: hub.slowConsumerResyncs,
    slow_consumer_closes: hub.slowConsumerCloses,
    published: hub.published,
  });

  ws.register(app);
  ingest.register(app);
  const mirror = new BookMirrorReader(pool.mirror, instruments.length, MIRROR_DEPTH);
  // Heavy REST work (rebuilding a past book from the journal) runs in a small thread pool.
  const heavy = new Piscina({ filename: path.join(__dirname, 'book-at-task.js'), maxThreads: 1, idleTimeout: 30_000 });
  const bookAt = isReplay(config.source) ? null : (task: BookAtRequest) => heavy.run({ ...task, journalDir, checkpointDir }) as Promise<BookAtAnswer>;
  new RestRoutes(symbols, mirror, trades, candles, persistence, bookAt, (res, req) => (showsHealthDetails(config.healthDetails, res, req) ? health() : publicHealth()), isReplay(config.source)).register(app);
  const snapshots = new MarketSnapshots(new BookMirrorReader(pool.mirror, instruments.length, MIRROR_DEPTH), new CurrencyConverter(instruments));
  new MarketDataRoutes(symbols, snapshots, EXCHANGE, config.source.kind, persistence).register(app);
  app.any('/*', (res) => sendError(res, 'NOT_FOUND'));

  const sourceData: SourceWorkerData = {
    source: config.source,
    instruments,
    referencePrices: config.referencePrices,
    eventRings: pool.channels.map((c) => c.eventRing),
    doorbells: pool.channels.map((c) => c.doorbell),
    ownerOf: pool.ownerOf,
    stats: sourceStats.buffer as SharedArrayBuffer,
    journalDir,
    checkpoint: pool.checkpoints?.restoredFrom ?? null,
    checkpointCadence: { events: config.checkpointEvents, intervalMs: config.checkpointIntervalMs },
    journalFsyncMs: config.journalFsyncMs,
    ingest: ingestBuffers,
  };
  const source = new Worker(path.join(__dirname, '..', 'source', 'source-worker.js'), { workerData: sourceData });
  let stopping = false;
  let sourceExited = false;
  let sourceStarted!: () => void;
  const sourceReady = new Promise<void>((resolve) => (sourceStarted = resolve));
  source.on('message', (report: SourceReport) => {
    if (report.type === 'ready') {
      if (report.ingest !== undefined) ingest.begin(report.ingest);
      sourceStarted();
    } else if (report.type === 'session') ingest.sessionStarted(report.session, report.journalBase);
    else if (report.type === 'error') fail(new BookcastError('WORKER_FAILED', `source: ${report.code}: ${report.message}`));
  });
  source.on('error', (err) => fail(new BookcastError('WORKER_FAILED', `source: ${err.message}`)));
  source.on('exit', (code) => {
    sourceExited = true;
    // A live source never ends by itself; a replay ends when it is done.
    if (!stopping && (code !== 0 || isLive(config.source))) fail(new BookcastError('WORKER_FAILED', `source exited with code ${code}`));
  });

  const front = new FrontLoop(distributor, hub, new RingGroup(pool.frontDoorbell, pool.channels.map((c) => c.out)), () => ingest.poll());
  front.start();
  const heartbeats = new HeartbeatRounds(config.heartbeatMs, hub.sessions);
  const heartbeat = setInterval(() => heartbeats.tick(), HEARTBEAT_TICK_MS);
  const conflation = setInterval(() => conflator.flush(Date.now()), CONFLATION_TICK_MS);

  let listenSocket: us_listen_socket | null = null;
  /** Stops in order: no new input, books finish what they have, storage writes what they made. */
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    front.stop();
    clearInterval(heartbeat);
    clearInterval(conflation);
    ws.closeAll();
    ingest.closePublisher();
    if (listenSocket !== null) uws.us_listen_socket_close(listenSocket);
    // What a publisher was told is accepted reaches the journal before the source stops.
    const settleBy = Date.now() + SETTLE_MS;
    while (!ingest.settled() && Date.now() < settleBy && !sourceExited) {
      ingest.poll();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    // A live source closes its journal (synced, lock released) and ends; others are cut short.
    sourceStats[SRC_STOP] = 1;
    const stopBy = Date.now() + SOURCE_STOP_MS;
    while (isLive(config.source) && !sourceExited && Date.now() < stopBy) await new Promise((resolve) => setTimeout(resolve, 5));
    await source.terminate();
    await pool.drain();
    await pool.stop();
    await persistence.stop();
    await heavy.destroy();
  };

  try {
    // A live source first replays its journal; the books apply it before anyone can connect.
    await Promise.race([sourceReady, failed.then((err) => Promise.reject(err))]);
    await pool.drain();
    listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
      app.listen(config.host, config.port, (socket) => {
        if (socket) resolve(socket);
        else reject(new BookcastError('LISTEN_FAILED', `could not listen on ${config.host}:${config.port}`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    host: config.host,
    port: uws.us_socket_local_port(listenSocket),
    instruments,
    workers: pool.channels.length,
    failed,
    distributor,
    stop,
  };
}
