/**
 * The source thread's shared words: a Float64Array(SRC_STATS_WORDS) over a SharedArrayBuffer the
 * front allocates. The source is the only writer of every word but SRC_STOP; the front reads
 * them for /api/v1/health and ingest acks, the persistence worker reads SRC_DURABLE. They live
 * here, below every thread's folder, because three threads' code agrees on them.
 */
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
/** A follower (src/edge/input-follower.ts): the last journal record applied, the primary's last published, when and how late (ms). */
export const FOLLOW_APPLIED = 7;
export const FOLLOW_HEAD = 8;
export const FOLLOW_APPLIED_AT = 9;
export const FOLLOW_LAG_MS = 10;
/** 1 while its Redis connection answers. */
export const FOLLOW_CONNECTED = 11;
/**
 * Written by the server: 1 tells a standby's source that the lease is now this process's (the
 * epoch was bumped, nobody can append to the stream any more): apply the stream to its end,
 * then take publishers (src/edge/primary-lease.ts).
 */
export const SRC_PROMOTE = 12;
export const SRC_STATS_WORDS = 13;
