import type { Instrument } from '../model/instruments';
import { REJECT_CODE_COUNT } from '../model/book-types';

/**
 * What the pool hands a book worker at start-up. Everything on the hot path is shared memory;
 * postMessage carries only 'ready', fatal errors ({code, message}) and, once per checkpoint, the
 * worker's encoded states (their buffers transferred, not copied) for the main thread to write.
 */
export interface BookWorkerData {
  workerIndex: number;
  /** Every configured instrument, so indexes mean the same in every thread. */
  instruments: Instrument[];
  /** Indexes of the instruments this worker owns (it is their only writer). */
  owned: number[];
  eventRing: SharedArrayBuffer;
  controlRing: SharedArrayBuffer;
  outRing: SharedArrayBuffer;
  /** Rung by the event and control producers when this worker sleeps. */
  doorbell: SharedArrayBuffer;
  /** Rung by this worker when the front thread sleeps. */
  frontDoorbell: SharedArrayBuffer;
  mirror: SharedArrayBuffer;
  mirrorDepth: number;
  stats: SharedArrayBuffer;
  /** How late this worker applies events, sampled (ring/shared-latency.ts; the front thread reads it). */
  applyLatency: SharedArrayBuffer;
  /** Trades, closed candles and book snapshots for the persistence worker. */
  persistRing: SharedArrayBuffer;
  /** Rung by this worker when the persistence worker sleeps. */
  persistDoorbell: SharedArrayBuffer;
  /** A book that changed is snapshotted for storage at most this often. */
  snapshotIntervalMs: number;
  snapshotDepth: number;
  /** A core is spare for the worker to spin on before it sleeps (ring/idle-strategy.ts hasSpareCore). */
  spareCore: boolean;
  /** The checkpoint to load the owned symbols from before reporting ready; null starts empty. */
  checkpoint: { path: string; sequence: number } | null;
}

/** A worker's share of checkpoint `sequence`: one encoded state per owned symbol (symbol-checkpoint.ts). */
export interface CheckpointReport {
  type: 'checkpoint';
  sequence: number;
  symbols: number[];
  states: Float64Array[];
  /** Latest event timestamp (µs) any of these symbols has seen. */
  maxTimestamp: number;
  /** How long encoding held up the worker's loop. */
  encodeMicros: number;
}

export type WorkerReport =
  /** `checkpoint`: the journal record the books were loaded as of (0: none), which took `loadMs`. */
  | { type: 'ready'; checkpoint: number; loadMs: number }
  | CheckpointReport
  | { type: 'error'; code: string; message: string };

/**
 * Per-worker counters in shared memory, written by the worker only (plain stores: a reader may
 * see a value one batch old, never a torn one on x86-64).
 *
 *   word 0             events accepted
 *   word 1 + code      events rejected, by REJECT_* code
 *   word 1 + COUNT     batches processed
 *   word 2 + COUNT     times the worker waited for out-ring space
 *   word 3 + COUNT     times the worker waited for persist-ring space
 */
export const S_ACCEPTED = 0;
export const S_REJECTED = 1;
export const S_BATCHES = 1 + REJECT_CODE_COUNT;
export const S_OUT_WAITS = 2 + REJECT_CODE_COUNT;
export const S_PERSIST_WAITS = 3 + REJECT_CODE_COUNT;
export const STATS_WORDS = 4 + REJECT_CODE_COUNT;
