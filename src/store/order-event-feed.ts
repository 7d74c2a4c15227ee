import { W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../model/events';
import { JournalTail } from '../journal/journal-tail';
import type { JournalHandler } from '../journal/segment-scanner';
import { SRC_DURABLE } from '../model/source-words';
import type { OrderEventRecord } from './store';

/**
 * The rows of order_events, taken from the input journal rather than from the book workers: the
 * journal already holds every input event, in order, on disk, so storing them costs the hot
 * path nothing, and the journal is also what makes an outage harmless. The feed reads only what
 * the source has made durable (its SRC_DURABLE word), so a stored event is one a restart keeps.
 *
 * It holds at most one batch. When a write fails, the batch is dropped and the feed stops
 * (`halt`); once the database answers again it resumes after the sequence the database says is
 * stored (`resume`). The journal is the spool: nothing to keep in memory or on disk meanwhile,
 * and nothing is written twice. Retention may delete journal segments the feed has not reached
 * (a long outage, or --store-events turned on for an old journal); the gaps that leaves in the
 * stored sequence are counted in `skipped`.
 */
export class OrderEventFeed implements JournalHandler {
  /** The batch being gathered, in journal order. */
  rows: OrderEventRecord[] = [];
  /** When the batch got its first row (ms), 0 when empty. */
  startedAt = 0;
  /** The journal sequence through which events are stored. */
  storedThrough = 0;
  /** Journal records deleted before their turn came, since start. */
  skipped = 0;
  private tail: JournalTail | null = null;
  private readonly sourceStats: Float64Array;

  constructor(
    private readonly journalDir: string,
    sourceStats: SharedArrayBuffer,
    private readonly symbols: readonly string[],
    private readonly batchRows: number,
  ) {
    this.sourceStats = new Float64Array(sourceStats);
  }

  /** Whether the feed is reading the journal (false before `resume` and after `halt`). */
  get following(): boolean {
    return this.tail !== null;
  }

  /** The highest journal sequence on stable storage. */
  get durable(): number {
    return this.sourceStats[SRC_DURABLE];
  }

  /** Follows the journal from the record after `storedThrough`, what the database holds. */
  resume(storedThrough: number): void {
    this.halt();
    this.storedThrough = storedThrough;
    this.tail = new JournalTail(this.journalDir, storedThrough + 1);
  }

  /** Stops reading and drops the unwritten batch: the journal still has it. */
  halt(): void {
    this.tail?.close();
    this.tail = null;
    this.rows = [];
    this.startedAt = 0;
  }

  /** Reads durable records into the batch, at most `limit` and never past a full batch; returns how many. */
  poll(limit: number): number {
    const room = this.batchRows - this.rows.length;
    if (this.tail === null || room <= 0) return 0;
    const n = this.tail.read(this, this.durable, Math.min(limit, room));
    if (n > 0 && this.startedAt === 0) this.startedAt = Date.now();
    return n;
  }

  /** Whether the batch should be written: full, or holding rows for `batchMs`. */
  due(nowMs: number, batchMs: number): boolean {
    return this.rows.length >= this.batchRows || (this.rows.length > 0 && nowMs - this.startedAt >= batchMs);
  }

  /** Hands the batch over for writing; `stored` must be called once it has committed. */
  take(): OrderEventRecord[] {
    const rows = this.rows;
    this.rows = [];
    this.startedAt = 0;
    return rows;
  }

  /**
   * Records that `rows` (from `take`) committed. Every record between the previous resume point
   * and the batch's last is either in it or was gone from the journal.
   */
  stored(rows: readonly OrderEventRecord[]): void {
    const through = rows[rows.length - 1].sequence;
    this.skipped += through - this.storedThrough - rows.length;
    this.storedThrough = through;
  }

  onEvent(sequence: number, f: Float64Array, w: number): void {
    this.rows.push({
      sequence,
      symbol: this.symbols[f[w + W_SYMBOL]],
      kind: f[w + W_KIND],
      side: f[w + W_SIDE],
      orderId: f[w + W_ORDER_ID],
      price: f[w + W_PRICE],
      size: f[w + W_SIZE],
      newOrderId: f[w + W_NEW_ORDER_ID],
      time: f[w + W_TIMESTAMP],
    });
  }
}
