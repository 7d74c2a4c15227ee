import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { BookcastError } from '../errors';
import { Doorbell } from '../ring/doorbell';
import { SpscRing } from '../ring/spsc-ring';
import { allocateMirror } from './book-mirror';
import type { Instrument } from '../model/instruments';
import { MIRROR_DEPTH } from '../model/depths';
import { CTRL_DEACTIVATE, CTRL_SNAPSHOT, packControl } from '../model/out-records';
import { BookWorkerData, STATS_WORDS, WorkerReport } from './worker-protocol';
import { CheckpointCoordinator, CheckpointOptions } from './checkpoint-coordinator';
import { latestCheckpoint } from './checkpoint-files';
import { hasSpareCore } from '../ring/idle-strategy';
import { allocateSharedLatency } from '../ring/shared-latency';

/** The book workers poll beside the front thread and the source thread, counted against the cores. */
const POLLING_NEIGHBOURS = 2;
const EVENT_RING_BYTES = 4 * 1024 * 1024;
const CONTROL_RING_BYTES = 64 * 1024;
/** Large enough for an L3 snapshot of ~300k orders (a record may take half the ring). */
const OUT_RING_BYTES = 16 * 1024 * 1024;
/** About 130k trades of slack while the persistence worker is busy (it spools when the database is). */
const PERSIST_RING_BYTES = 8 * 1024 * 1024;

export interface PoolOptions {
  snapshotIntervalMs: number;
  snapshotDepth: number;
  /** Where books are checkpointed and restored from; absent or null for sources that keep no journal. */
  checkpoints?: CheckpointOptions | null;
}

/** The shared memory of one book worker, as the main side holds it. */
export interface WorkerChannels {
  eventRing: SharedArrayBuffer;
  doorbell: SharedArrayBuffer;
  /** Consumed by the persistence worker. */
  persistRing: SharedArrayBuffer;
  out: SpscRing;
  control: SpscRing;
  stats: Float64Array;
  /** How late the worker applies events (ring/shared-latency.ts). */
  applyLatency: SharedArrayBuffer;
}

/**
 * Starts and supervises the book workers. Instruments are sharded round-robin; each worker is the
 * only writer of its instruments' books, mirror slots and out-ring. The pool owns the producer
 * side of the control rings (front thread) and hands the event rings' producer side to a source.
 */
export class WorkerPool {
  readonly mirror: SharedArrayBuffer;
  readonly frontDoorbell: Doorbell;
  /** frontDoorbell's buffer, for other threads that wake the front (the ingest source's acks). */
  readonly frontDoorbellBuffer: SharedArrayBuffer;
  /** Rung by every book worker when the persistence worker sleeps on their persist rings. */
  readonly persistDoorbell: SharedArrayBuffer;
  readonly channels: WorkerChannels[] = [];
  /** Worker index owning each instrument. */
  readonly ownerOf: Int32Array;
  private readonly workers: Worker[] = [];
  /** Control requests that found their ring full; retried on the next poll. */
  private readonly pendingControl: { worker: number; type: number }[] = [];
  private failure: ((err: BookcastError) => void) | null = null;
  private stopping = false;
  private readonly ready: Promise<void>;
  /** Writes the workers' checkpoints; knows the one the books started from. Null without a journal. */
  readonly checkpoints: CheckpointCoordinator | null;
  /** A core is spare beside the book workers, the front thread and the source thread: they may spin before they sleep. */
  readonly spareCore: boolean;

  constructor(readonly instruments: readonly Instrument[], readonly workerCount: number, options: PoolOptions) {
    this.mirror = allocateMirror(instruments.length, MIRROR_DEPTH);
    const frontDoorbellSab = Doorbell.allocate();
    this.frontDoorbell = new Doorbell(frontDoorbellSab);
    this.frontDoorbellBuffer = frontDoorbellSab;
    this.persistDoorbell = Doorbell.allocate();
    this.ownerOf = new Int32Array(instruments.length);
    const count = Math.min(workerCount, instruments.length);
    this.spareCore = hasSpareCore(count + POLLING_NEIGHBOURS);
    // Chosen once here, so every worker (and then the source) starts from the same record.
    const checkpoints = options.checkpoints ?? null;
    const restoredFrom = checkpoints === null ? null : latestCheckpoint(checkpoints.dir, instruments);
    this.checkpoints = checkpoints === null ? null : new CheckpointCoordinator(checkpoints, instruments, count, restoredFrom);
    for (let w = 0; w < count; w++) {
      const doorbellSab = Doorbell.allocate();
      const workerDoorbell = new Doorbell(doorbellSab);
      const eventRing = SpscRing.allocate(EVENT_RING_BYTES);
      const controlRing = SpscRing.allocate(CONTROL_RING_BYTES);
      const outRing = SpscRing.allocate(OUT_RING_BYTES);
      const persistRing = SpscRing.allocate(PERSIST_RING_BYTES);
      const stats = new SharedArrayBuffer(STATS_WORDS * 8);
      const applyLatency = allocateSharedLatency();
      const owned = instruments.filter((i) => i.index % count === w).map((i) => i.index);
      for (const i of owned) this.ownerOf[i] = w;
      this.channels.push({
        eventRing,
        doorbell: doorbellSab,
        persistRing,
        out: new SpscRing(outRing),
        control: new SpscRing(controlRing, workerDoorbell),
        stats: new Float64Array(stats),
        applyLatency,
      });
      const data: BookWorkerData = {
        workerIndex: w,
        instruments: [...instruments],
        owned,
        eventRing,
        controlRing,
        outRing,
        doorbell: doorbellSab,
        frontDoorbell: frontDoorbellSab,
        mirror: this.mirror,
        mirrorDepth: MIRROR_DEPTH,
        stats,
        applyLatency,
        persistRing,
        persistDoorbell: this.persistDoorbell,
        snapshotIntervalMs: options.snapshotIntervalMs,
        snapshotDepth: options.snapshotDepth,
        spareCore: this.spareCore,
        checkpoint: restoredFrom === null ? null : { path: restoredFrom.path, sequence: restoredFrom.sequence },
      };
      this.workers.push(new Worker(path.join(__dirname, 'book-worker.js'), { workerData: data }));
    }
    this.ready = this.listen();
    // A failure before anyone awaits start() is reported by start(); never unhandled.
    this.ready.catch(() => undefined);
  }

  /** Resolves when every worker is ready; `onFailure` hears of any worker that dies later. */
  start(onFailure: (err: BookcastError) => void): Promise<void> {
    this.failure = onFailure;
    return this.ready;
  }

  /**
   * Listens to every worker from the moment it is created: a report that arrives before anyone
   * awaits start() (the pool may be created while other threads start) is not lost.
   */
  private listen(): Promise<void> {
    return Promise.all(
      this.workers.map(
        (worker, w) =>
          new Promise<void>((resolve, reject) => {
            worker.on('message', (report: WorkerReport) => {
              if (report.type === 'ready') {
                this.checkpoints?.loaded(report.loadMs);
                resolve();
              }
              else if (report.type === 'checkpoint') this.checkpoints?.onReport(report);
              else this.fail(new BookcastError('WORKER_FAILED', `book worker ${w}: ${report.code}: ${report.message}`), reject);
            });
            worker.on('error', (err) => this.fail(new BookcastError('WORKER_FAILED', `book worker ${w}: ${err.message}`), reject));
            worker.on('exit', (code) => this.fail(new BookcastError('WORKER_FAILED', `book worker ${w} exited with code ${code}`), reject));
          }),
      ),
    ).then(() => undefined);
  }

  private fail(err: BookcastError, reject: (err: Error) => void): void {
    reject(err);
    if (this.stopping) return;
    this.failure?.(err);
    this.failure = null;
  }

  /** Asks the owner of `symbol` for a snapshot of a stream, which also starts that stream. */
  /** `stream` as model/streams.ts numbers them. */
  requestSnapshot(symbol: number, stream: number): void {
    this.control(this.ownerOf[symbol], packControl(symbol, CTRL_SNAPSHOT, stream));
  }

  deactivate(symbol: number, stream: number): void {
    this.control(this.ownerOf[symbol], packControl(symbol, CTRL_DEACTIVATE, stream));
  }

  /** Retries control requests that met a full ring; returns how many are still waiting. */
  flushControl(): number {
    // Called on every front-loop turn: nothing to allocate while nothing waits.
    if (this.pendingControl.length === 0) return 0;
    const pending = this.pendingControl.splice(0);
    for (const p of pending) this.control(p.worker, p.type);
    return this.pendingControl.length;
  }

  private control(worker: number, type: number): void {
    const ring = this.channels[worker].control;
    // Order matters (a deactivate must not overtake an earlier snapshot request): once one
    // request waits, later ones queue behind it.
    if (this.pendingControl.length === 0 && ring.tryClaim(0, type) >= 0) {
      ring.commit();
    } else {
      this.pendingControl.push({ worker, type });
      // The worker frees ring space without waking the front: wake it, so that its loop retries
      // within its short retry bound (app/front-loop.ts) rather than after a long idle sleep.
      this.frontDoorbell.ring();
    }
  }

  /** Waits (at most `timeoutMs`) until every worker has applied every event handed to it. */
  async drain(timeoutMs = 5000): Promise<void> {
    const rings = this.channels.map((c) => new SpscRing(c.eventRing));
    const deadline = Date.now() + timeoutMs;
    while (!rings.every((r) => r.isEmpty()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    // The batch that emptied the ring publishes its output at the end of the worker's loop turn.
    await new Promise((r) => setTimeout(r, 20));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.failure = null;
    this.ready.catch(() => undefined);
    await Promise.all(this.workers.map((w) => w.terminate()));
    // A checkpoint being written is finished (or fails) before the process may exit.
    await this.checkpoints?.idle();
  }
}
