import type { SourceConfig } from '../config';
import type { Instrument } from '../model/instruments';
import type { CheckpointCadence } from './event-writer';
import type { IngestBuffers, IngestStart } from './ingest-protocol';

/** What the pool hands the source worker: it becomes the single producer of every event ring. */
export interface SourceWorkerData {
  source: SourceConfig;
  instruments: Instrument[];
  referencePrices: Record<string, string>;
  eventRings: SharedArrayBuffer[];
  doorbells: SharedArrayBuffer[];
  ownerOf: Int32Array;
  /** [0] events emitted, [1] ring waits, [2] 1 once a finite source has finished, [3] events restored. */
  stats: SharedArrayBuffer;
  /** Live sources journal every event here and restore from it at start-up. */
  journalDir: string;
  /** The checkpoint the books were loaded from: the journal is replayed from the record after it. */
  checkpoint: { path: string; sequence: number } | null;
  /** When a journaling source has the books checkpointed. */
  checkpointCadence: CheckpointCadence;
  /** The journal's group-commit interval (JournalWriterOptions.fsyncIntervalMs). */
  journalFsyncMs: number;
  /** The ingest ring and state (ingest source only). */
  ingest?: IngestBuffers;
}

export const SRC_EMITTED = 0;
export const SRC_WAITS = 1;
export const SRC_DONE = 2;
export const SRC_RESTORED = 3;
/** Written by the server: 1 asks a live source to close its journal and end (a graceful stop). */
export const SRC_STOP = 4;
/** Milliseconds the start-up replay of the journal (after the checkpoint) took. */
export const SRC_RESTORE_MS = 5;
/**
 * The highest journal sequence on stable storage (journaling sources): acks to publishers, and
 * how far the persistence worker may read the journal. One aligned float64 store by the source,
 * one load by readers (x86-64: not torn; see seqlock-table.ts).
 */
export const SRC_DURABLE = 6;
export const SRC_STATS_WORDS = 7;

export type SourceReport =
  /** `ingest`: where the publisher session stands (ingest source only). */
  | { type: 'ready'; ingest?: IngestStart }
  | { type: 'done' }
  | { type: 'error'; code: string; message: string }
  /** A new publisher session began after journal record `journalBase`. */
  | { type: 'session'; session: string; journalBase: number };
