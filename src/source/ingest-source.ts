import { setImmediate as nextTurn } from 'node:timers/promises';
import { Doorbell } from '../ring/doorbell';
import { RecordHandler, SpscRing } from '../ring/spsc-ring';
import type { EventWriter } from './event-writer';
import { W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../model/events';
import type { JournalWriter } from '../journal/journal-writer';
import { INGEST_EVENT, INGEST_SESSION, IngestBuffers, IngestStart } from './ingest-protocol';
import { readIngestSession, writeIngestSession } from './ingest-session-file';
import { SRC_EMITTED, SRC_STOP, SRC_WAITS } from '../model/source-words';

/** Records handled between two publishes: a backlog still reaches the books in slices. */
const BATCH = 4096;
/** Longest sleep with nothing to do (the front rings the bell when it publishes); a stop is noticed within it. */
const IDLE_WAIT_MS = 100;

/**
 * The source thread's side of network ingest: takes the events the front thread accepted from
 * the publisher off the ingest ring, journals them and hands them to the books (EventWriter),
 * and makes the journal durable on the group-commit clock, telling the front how far it got.
 * Events sit in the journal's page cache before any book sees them; the ack waits for fdatasync.
 */
export class IngestSource implements RecordHandler {
  private readonly ring: SpscRing;
  /** The durable sequence the front was last woken for. */
  private announced = 0;
  private readonly frontBell: Doorbell;
  private readonly decoder = new TextDecoder();

  constructor(
    buffers: IngestBuffers,
    private readonly writer: EventWriter,
    private readonly journal: JournalWriter,
    private readonly journalDir: string,
    /** The source's stats (source-protocol.ts): events handed to the books. */
    private readonly stats: Float64Array,
    private readonly onSession: (session: string, journalBase: number) => void,
  ) {
    this.ring = new SpscRing(buffers.ring);
    this.frontBell = new Doorbell(buffers.frontDoorbell);
  }

  /** Where the session stands after the journal was restored: everything in it is on disk. */
  start(): IngestStart {
    this.journal.sync();
    this.noteDurable();
    const last = this.journal.nextSequence - 1;
    const record = readIngestSession(this.journalDir);
    if (record === null) return { session: null, journalBase: last, accepted: 0 };
    return { session: record.session, journalBase: record.journalBase, accepted: Math.max(0, last - record.journalBase) };
  }

  /**
   * Runs until the server asks the source to stop (SRC_STOP), with everything on the ring
   * journaled. The loop yields to the event loop between batches and sleeps with waitAsync, so
   * the journal's background fdatasync completions (and with them the acks) land meanwhile.
   */
  async run(): Promise<void> {
    // A pending Atomics.waitAsync does not keep a worker's event loop alive: without a ref'd
    // handle the thread would simply end while it waits for the first batch.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      await this.loop();
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async loop(): Promise<void> {
    const ring = this.ring;
    const journal = this.journal;
    for (;;) {
      const count = ring.read(this, BATCH);
      if (count > 0) {
        this.writer.publish();
        this.stats[SRC_WAITS] = this.writer.waits;
        await nextTurn();
        continue;
      }
      journal.maybeSync(Date.now());
      this.noteDurable();
      if (this.stats[SRC_STOP] === 1) return;
      // Written but not yet durable: come back when the group commit is due, not later.
      const unsynced = journal.durableSequence < journal.nextSequence - 1;
      const wake = ring.park() ? ring.waitAsync(unsynced ? 1 : IDLE_WAIT_MS) : undefined;
      await (wake ?? nextTurn());
    }
  }

  onRecord(type: number, offset: number, length: number): void {
    if (type === INGEST_EVENT) {
      const f = this.ring.f64;
      const w = offset >>> 3;
      this.writer.event(f[w + W_KIND], f[w + W_SYMBOL], f[w + W_SIDE], f[w + W_ORDER_ID], f[w + W_PRICE], f[w + W_SIZE], f[w + W_NEW_ORDER_ID], f[w + W_TIMESTAMP]);
      this.stats[SRC_EMITTED]++;
    } else if (type === INGEST_SESSION) {
      const session = this.decoder.decode(this.ring.bytes.subarray(offset, offset + length));
      // Everything before the session is on disk first, so its base is a durable record.
      this.writer.publish();
      this.journal.sync();
      const journalBase = this.journal.nextSequence - 1;
      writeIngestSession(this.journalDir, { session, journalBase });
      this.onSession(session, journalBase);
    }
  }

  /**
   * Wakes the front when the journal's durable sequence (SRC_DURABLE, which the journal keeps)
   * moved, so the ack goes out at once; the journal calls it when a background sync completes.
   */
  noteDurable(): void {
    const durable = this.journal.durableSequence;
    if (durable === this.announced) return;
    this.announced = durable;
    this.frontBell.ring();
  }
}
