/**
 * What the front thread (src/gateway/ingest-gateway.ts) and the source thread
 * (src/source/ingest-source.ts) share for network ingest.
 *
 * The ingest ring: the front is its single producer, the source thread its single consumer.
 *   INGEST_EVENT    64 bytes: one input event, laid out as events.ts's ring records
 *   INGEST_SESSION  the UTF-8 name of a new publisher session; every event after it belongs to it
 *
 * The front reads how far the journal is durable from the source's stats (SRC_DURABLE).
 *
 * A publisher session numbers its events 1, 2, 3, … (MoldUDP64 and SoupBinTCP work this way).
 * Every event of a session is journaled, in order, right after the journal record that was last
 * when the session began (its journal base), so the event numbered n is journal record base + n:
 * that is how a durable journal sequence becomes an ack, and how a restart knows which
 * sequence a session has reached, without a word more in the journal.
 */

export const INGEST_EVENT = 1;
export const INGEST_SESSION = 2;

/** Session names: short, printable, safe in a file and a URL. */
export const SESSION_NAME = /^[A-Za-z0-9._:-]{1,64}$/;

/** Where ingest stands, as the source thread found it at start-up (after restoring the journal). */
export interface IngestStart {
  /** The current session, null before any publisher ever connected. */
  session: string | null;
  /** Journal record after which the session's event 1 sits. */
  journalBase: number;
  /** Highest sequence of the session in the journal. */
  accepted: number;
}

/** Buffers the source worker needs for ingest; absent for other sources. */
export interface IngestBuffers {
  ring: SharedArrayBuffer;
  /** The front thread's doorbell: rung when the durable sequence advances, so acks go out at once. */
  frontDoorbell: SharedArrayBuffer;
}
