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
  /** Float64Array(SRC_STATS_WORDS) of the source's words (model/source-words.ts). */
  stats: SharedArrayBuffer;
  /** Live sources journal every event here and restore from it at start-up. */
  journalDir: string;
  /** The checkpoint the books were loaded from: the journal is replayed from the record after it. */
  checkpoint: { path: string; sequence: number } | null;
  /** When a journaling source has the books checkpointed. */
  checkpointCadence: CheckpointCadence;
  /** The journal's group-commit interval (JournalWriterOptions.fsyncIntervalMs). */
  journalFsyncMs: number;
  /** Float64Array(feedWordsLength(instruments)) of the feed's words, model/feed-words.ts (feed and capture sources only). */
  feedStats?: SharedArrayBuffer;
  /** Where a follow source reads the primary's stream (src/edge/replication-format.ts). */
  replicationPrefix: string;
  /** How long a standby's read of the stream blocks: a promotion waits for it at most. */
  followBlockMs: number;
  /** The ingest ring and state (ingest source only). */
  ingest?: IngestBuffers;
}

export type SourceReport =
  /** `ingest`: where the publisher session stands (ingest source only). */
  | { type: 'ready'; ingest?: IngestStart }
  | { type: 'done' }
  | { type: 'error'; code: string; message: string }
  /** A standby applied the whole stream and now takes publishers: where the session stands. */
  | { type: 'promoted'; ingest: IngestStart }
  /** A new publisher session began after journal record `journalBase`. */
  | { type: 'session'; session: string; journalBase: number };
