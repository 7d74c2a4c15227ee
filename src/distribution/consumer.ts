/**
 * What plugs into the distribution core (Distributor). A consumer is anything that wants the
 * owners' sequenced messages: the WebSocket sessions (through SessionHub), a FIX acceptor, a
 * publisher to edge processes, metrics. It never sees a ring, a worker or a transport.
 */

/**
 * One out-ring record as the core hands it out. The core reuses a single instance for every
 * record, so the hot path allocates nothing: read the fields during the call, never keep it.
 */
export class OutMessage {
  /** The stream's key (StreamTable: instrument × STREAMS + stream). */
  key = 0;
  symbol = 0;
  /** The stream within its instrument (model/streams.ts). */
  stream = 0;
  /** The owner's message kind (MSG_*, model vocabulary) and its depth or interval index. */
  kind = 0;
  index = 0;
  sequence = 0;
  /** The ring's bytes; the FlatBuffers Envelope spans [start, end). */
  buffer: Uint8Array = new Uint8Array(0);
  start = 0;
  end = 0;
  /** Changes with every record, so a consumer can cache what it derived from one (a rendering). */
  serial = 0;
  private view: Uint8Array | null = null;

  /** Points the instance at the next record (the core only). */
  reset(buffer: Uint8Array, start: number, end: number): void {
    this.buffer = buffer;
    this.start = start;
    this.end = end;
    this.serial++;
    this.view = null;
  }

  /**
   * The Envelope's bytes as a view into the ring, made at most once per record and only when a
   * consumer asks: they are the owner's bytes, fanned out as they are.
   */
  bytes(): Uint8Array {
    if (this.view === null) this.view = this.buffer.subarray(this.start, this.end);
    return this.view;
  }
}

/**
 * A consumer of streams. After `Distributor.follow(consumer, key)` it gets the stream's
 * snapshot (`onSnapshot`; trades have none) and then every message after it (`onMessage`), in
 * sequence order, with no gap and no duplicate; `Distributor.resnapshot` asks for another
 * snapshot in the same order. Calls happen on the front thread, between two ring reads, so a
 * consumer may send to its clients synchronously and needs no locking.
 */
export interface StreamConsumer {
  /**
   * A snapshot of `m.key` at `m.sequence`. `reset` is true when the owner reset the book
   * (every follower gets it); otherwise it answers this consumer's follow or resnapshot.
   */
  onSnapshot(m: OutMessage, reset: boolean): void;
  onMessage(m: OutMessage): void;
}

/**
 * A consumer of everything that flows whoever follows it: trades and closed candles always do
 * (REST history, metrics, a tape). A tap never makes an owner produce a stream.
 */
export interface RecordTap {
  onRecord(m: OutMessage): void;
}

/** The owners of the streams, asked to produce one while someone follows it (WorkerPool). */
export interface StreamOwners {
  requestSnapshot(symbol: number, stream: number): void;
  deactivate(symbol: number, stream: number): void;
  /** Retries requests that found a control ring full; returns how many still wait. */
  flushControl(): number;
}
