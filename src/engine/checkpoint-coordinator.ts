import { applyRetention } from './journal-retention';
import { CheckpointInfo, completeCheckpoint, createCheckpointDir, writeSymbolFile } from './checkpoint-files';
import type { Instrument } from '../model/instruments';
import type { CheckpointReport } from './worker-protocol';

export interface CheckpointOptions {
  /** <data-dir>/checkpoints */
  dir: string;
  /** The journal the checkpoints shorten (retention deletes its old segments). */
  journalDir: string;
  /** Journal and checkpoints are kept at least this long (ms); 0 keeps the whole journal. */
  retentionMs: number;
}

/** Files written at once; the fsyncs run on libuv's thread pool, which has four threads. */
const WRITE_CONCURRENCY = 8;

/** One checkpoint being written: the workers' shares arrive one by one. */
interface Pending {
  sequence: number;
  dir: Promise<string>;
  writes: Promise<void>[];
  reports: number;
  maxTimestamp: number;
  bytes: number;
  started: number;
}

/**
 * The main thread's side of checkpoints: gathers each book worker's encoded states for journal
 * record J, writes them (async fs: the front thread never waits on the disk), completes the
 * checkpoint with its marker once every worker's share is durable, then runs journal retention.
 *
 * One checkpoint is written at a time. A marker that reaches the workers while the previous
 * checkpoint is still being written is skipped (counted): a disk that slow would only queue
 * encoded states in memory, and the next checkpoint covers the same ground.
 */
export class CheckpointCoordinator {
  private current: Pending | null = null;
  /** Highest checkpoint any worker reported: shares of older (skipped) ones are dropped. */
  private highest = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  private completed = 0;
  private skipped = 0;
  private failed = 0;
  private lastError: string | null = null;
  private lastSequence = 0;
  private lastCompletedAt = 0;
  private lastWriteMs = 0;
  private lastBytes = 0;
  private maxEncodeMs = 0;
  private deletedSegments = 0;
  private deletedCheckpoints = 0;
  /** Longest time a worker took to load its symbols from restoredFrom. */
  private loadMs = 0;
  /** Hears of every checkpoint once it is complete on disk (the replication publisher ships it to followers). */
  onCompleted: ((checkpoint: { sequence: number; path: string }) => void) | null = null;

  constructor(
    private readonly options: CheckpointOptions,
    private readonly instruments: readonly Instrument[],
    private readonly workers: number,
    /** The checkpoint the books started from, or null. */
    readonly restoredFrom: CheckpointInfo | null,
  ) {
    this.highest = restoredFrom?.sequence ?? 0;
    this.lastSequence = this.highest;
  }

  /** A worker loaded its share of restoredFrom in `ms`. */
  loaded(ms: number): void {
    this.loadMs = Math.max(this.loadMs, ms);
  }

  onReport(report: CheckpointReport): void {
    this.maxEncodeMs = Math.max(this.maxEncodeMs, report.encodeMicros / 1000);
    let pending = this.current;
    if (pending === null || pending.sequence !== report.sequence) {
      if (report.sequence <= this.highest) return;
      this.highest = report.sequence;
      if (pending !== null) {
        this.skipped++;
        return;
      }
      const dir = createCheckpointDir(this.options.dir, report.sequence);
      pending = { sequence: report.sequence, dir, writes: [], reports: 0, maxTimestamp: 0, bytes: 0, started: Date.now() };
      this.current = pending;
    }
    pending.reports++;
    pending.maxTimestamp = Math.max(pending.maxTimestamp, report.maxTimestamp);
    for (const words of report.states) pending.bytes += words.byteLength;
    pending.writes.push(this.track(pending.dir.then((dir) => writeAll(dir, report))));
    if (pending.reports === this.workers) void this.track(this.finish(pending));
  }

  /** Resolves when nothing is being written (the pool waits for it before it stops). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  health(): Record<string, unknown> {
    return {
      restored_from: this.restoredFrom?.sequence ?? null,
      load_ms: this.loadMs,
      last_sequence: this.lastSequence,
      last_completed_at: this.lastCompletedAt === 0 ? null : new Date(this.lastCompletedAt).toISOString(),
      completed: this.completed,
      skipped: this.skipped,
      failed: this.failed,
      last_error: this.lastError,
      last_write_ms: this.lastWriteMs,
      last_bytes: this.lastBytes,
      max_encode_ms: Math.round(this.maxEncodeMs * 1000) / 1000,
      deleted_segments: this.deletedSegments,
      deleted_checkpoints: this.deletedCheckpoints,
    };
  }

  private async finish(pending: Pending): Promise<void> {
    try {
      const dir = await pending.dir;
      await Promise.all(pending.writes);
      const createdAt = Date.now();
      await completeCheckpoint(this.options.dir, dir, { sequence: pending.sequence, createdAt, maxTimestamp: pending.maxTimestamp, instruments: this.instruments });
      this.completed++;
      this.lastSequence = pending.sequence;
      this.lastCompletedAt = createdAt;
      this.lastWriteMs = createdAt - pending.started;
      this.lastBytes = pending.bytes;
      this.onCompleted?.({ sequence: pending.sequence, path: dir });
      const deleted = await applyRetention({ journalDir: this.options.journalDir, checkpointsDir: this.options.dir, retentionMs: this.options.retentionMs, now: createdAt });
      this.deletedSegments += deleted.segments;
      this.deletedCheckpoints += deleted.checkpoints;
    } catch (error) {
      // The feed goes on (the journal still has everything); health shows why checkpoints stall.
      this.failed++;
      this.lastError = String((error as Error).message ?? error);
    } finally {
      this.current = null;
    }
  }

  /** Keeps `work` known to idle(); its failure is handled where it is awaited. */
  private track<T>(work: Promise<T>): Promise<T> {
    this.inflight.add(work);
    const settle = (): void => void this.inflight.delete(work);
    work.then(settle, settle);
    return work;
  }
}

async function writeAll(dir: string, report: CheckpointReport): Promise<void> {
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < report.symbols.length) {
      const i = next++;
      await writeSymbolFile(dir, report.symbols[i], report.states[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, report.symbols.length) }, writer));
}
