import type { SourceConfig } from '../config';
import type { Instrument } from '../engine/instruments';

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
}

export const SRC_EMITTED = 0;
export const SRC_WAITS = 1;
export const SRC_DONE = 2;
export const SRC_RESTORED = 3;
export const SRC_STATS_WORDS = 4;

export type SourceReport = { type: 'ready' } | { type: 'done' } | { type: 'error'; code: string; message: string };
