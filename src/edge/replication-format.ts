import { EVENT_WORDS } from '../model/events';

/**
 * What a primary publishes to Redis for its followers (edges, a standby), under one key prefix:
 *
 *   <prefix>:input        Stream of the journal's records, in order, one entry per publisher poll.
 *                         Entry ID "<last record's journal sequence>-0", so an ID is a position in
 *                         the journal and MINID trims by records. Fields:
 *                           r  the records: n x 9 float64 little-endian (journal sequence, then the
 *                              8 event words of model/events.ts), sequences consecutive
 *                           t  the primary's wall clock (ms) when it published the entry
 *                           s, b  (an ingest primary) the publisher session in force and its journal
 *                              base (ingest-protocol.ts): what a promoted standby continues
 *   <prefix>:checkpoint   Hash: "sequence" (the journal record it is as of) and every file of the
 *                         newest checkpoint directory (engine/checkpoint-files.ts), byte for byte.
 *   <prefix>:meta         JSON {instruments, workers}: what a follower must run to be identical.
 *   <prefix>:lease, <prefix>:epoch   who is primary, and the fencing epoch (primary-lease.ts).
 *
 * The stream always keeps every record after the published checkpoint (and at least the
 * retention), so checkpoint + stream is always a complete history.
 */
export const RECORD_WORDS = 1 + EVENT_WORDS;
export const RECORD_BYTES = RECORD_WORDS * 8;

export interface ReplicationKeys {
  stream: string;
  checkpoint: string;
  meta: string;
}

export function replicationKeys(prefix: string): ReplicationKeys {
  return { stream: `${prefix}:input`, checkpoint: `${prefix}:checkpoint`, meta: `${prefix}:meta` };
}

/** The journal sequence an entry ID names ("123-0" → 123). */
export function entrySequence(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash < 0 ? id : id.slice(0, dash));
}

/** `<prefix>:meta`: every follower runs the primary's instruments on the primary's worker count (ticks are per worker, engine/book-worker.ts). */
export interface ReplicationMeta {
  instruments: unknown[];
  workers: number;
}
