import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { type Config, isLive } from '../config';
import { BookcastError } from '../errors';
import type { Instrument } from '../model/instruments';
import { SRC_STOP } from '../model/source-words';
import type { WorkerPool } from '../engine/worker-pool';
import type { IngestBuffers } from '../source/ingest-protocol';
import type { SourceReport, SourceWorkerData } from '../source/source-protocol';
import type { IngestGateway } from '../gateway/ingest-gateway';

/** How long a stop waits for a live source to close its journal before it is terminated. */
const SOURCE_STOP_MS = 2_000;

export interface SourceThread {
  /** Resolves once the source is ready (a live source has replayed its journal into the rings). */
  readonly ready: Promise<void>;
  exited(): boolean;
  /** From now on the source's exit is expected, not a failure. */
  beginStop(): void;
  /** A live source closes its journal (synced, lock released) and ends; others are cut short. */
  stop(): Promise<void>;
}

/** Starts the source thread, the single producer of every event ring; `fail` hears of its death. */
export function startSourceThread(
  config: Config,
  instruments: Instrument[],
  pool: WorkerPool,
  sourceStats: Float64Array,
  ingestBuffers: IngestBuffers | undefined,
  ingest: IngestGateway,
  fail: (err: BookcastError) => void,
  feedStats?: Float64Array,
): SourceThread {
  const data: SourceWorkerData = {
    source: config.source,
    instruments,
    referencePrices: config.referencePrices,
    eventRings: pool.channels.map((c) => c.eventRing),
    doorbells: pool.channels.map((c) => c.doorbell),
    ownerOf: pool.ownerOf,
    stats: sourceStats.buffer as SharedArrayBuffer,
    journalDir: path.join(config.dataDir, 'journal'),
    checkpoint: pool.checkpoints?.restoredFrom ?? null,
    checkpointCadence: { events: config.checkpointEvents, intervalMs: config.checkpointIntervalMs },
    journalFsyncMs: config.journalFsyncMs,
    ingest: ingestBuffers,
    replicationPrefix: config.replicationPrefix,
    followBlockMs: Math.max(10, Math.floor(config.leaseMs / 10)),
    feedStats: feedStats?.buffer as SharedArrayBuffer | undefined,
  };
  const worker = new Worker(path.join(__dirname, '..', 'source', 'source-worker.js'), { workerData: data });
  let stopping = false;
  let exited = false;
  const journals = isLive(config.source) || config.source.kind === 'standby';
  let started!: () => void;
  const ready = new Promise<void>((resolve) => (started = resolve));
  worker.on('message', (report: SourceReport) => {
    if (report.type === 'ready') {
      if (report.ingest !== undefined) ingest.begin(report.ingest);
      started();
    } else if (report.type === 'promoted') ingest.begin(report.ingest);
    else if (report.type === 'session') ingest.sessionStarted(report.session, report.journalBase);
    else if (report.type === 'error') fail(new BookcastError('WORKER_FAILED', `source: ${report.code}: ${report.message}`));
  });
  worker.on('error', (err) => fail(new BookcastError('WORKER_FAILED', `source: ${err.message}`)));
  worker.on('exit', (code) => {
    exited = true;
    // A live source (and an edge's or standby's follower) never ends by itself; a replay ends when it is done.
    if (!stopping && (code !== 0 || journals || config.source.kind === 'follow')) fail(new BookcastError('WORKER_FAILED', `source exited with code ${code}`));
  });
  return {
    ready,
    exited: () => exited,
    beginStop() {
      stopping = true;
    },
    async stop() {
      stopping = true;
      sourceStats[SRC_STOP] = 1;
      const stopBy = Date.now() + SOURCE_STOP_MS;
      while (journals && !exited && Date.now() < stopBy) await new Promise((resolve) => setTimeout(resolve, 5));
      await worker.terminate();
    },
  };
}
