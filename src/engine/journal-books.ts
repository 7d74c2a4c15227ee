import { OK } from '../model/book-types';
import { W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../model/events';
import { JournalHandler, JournalReader } from '../journal/journal-reader';
import { JournalTimeIndex } from '../journal/journal-time-index';
import { applyEvent } from './apply-event';
import { CheckpointInfo, readSymbolCheckpoint } from './checkpoint-files';
import { OrderBook } from './order-book';
import { H_SEQUENCE, H_TIMESTAMP, loadBook } from './symbol-checkpoint';

/** What a book needs of its instrument: its increments. */
export interface BookUnits {
  tickUnits: number;
  lotUnits: number;
}

/**
 * The books a journal builds, as the book workers build them: every record goes through the
 * engine's applyEvent (EV_CLEAR empties the book), and an accepted event takes the instrument's
 * next sequence; a rejected one, or one naming an instrument not rebuilt here, changes nothing.
 * The one journal-into-books replay: `bookcast replay --source journal:` rebuilds every book from
 * the start, `orderbook?at=` (gateway/book-at-task.ts) one book from a checkpoint.
 *
 * `onEvent` runs once per journal record on the heavy-work thread: it allocates nothing.
 */
export class JournalBooks implements JournalHandler {
  /** Per instrument index: its book, or null when it is not rebuilt (its records are skipped). */
  readonly books: (OrderBook | null)[];
  /** Per instrument: the sequence of its last accepted event. */
  readonly sequences: number[];
  /** Per instrument: the timestamp (µs) of its last accepted event. */
  readonly timestamps: number[];
  /** The journal record the books hold everything up to: 0 (empty), or a checkpoint's. */
  private after = 0;

  /** `units` per instrument index; null for an instrument not to rebuild. */
  constructor(units: readonly (BookUnits | null)[]) {
    this.books = units.map((u) => (u === null ? null : new OrderBook(u.tickUnits, u.lotUnits, null)));
    this.sequences = units.map(() => 0);
    this.timestamps = units.map(() => 0);
  }

  /** Starts the books (still empty) from a checkpoint: its resting orders, sequences and timestamps. */
  startFrom(checkpoint: CheckpointInfo): this {
    this.books.forEach((book, index) => {
      if (book === null) return;
      const words = readSymbolCheckpoint(checkpoint, index);
      loadBook(words, book);
      this.sequences[index] = words[H_SEQUENCE];
      this.timestamps[index] = words[H_TIMESTAMP];
    });
    this.after = checkpoint.sequence;
    return this;
  }

  /**
   * Applies the journal's records after the start whose timestamp is <= `untilTime` (timestamps
   * are the sources' and need not grow with the sequence: a filter, not a stop). A time index
   * reads the same records as the reader, skipping the blocks that are all later.
   */
  replay(journal: JournalReader | JournalTimeIndex, untilTime: number): this {
    if (journal instanceof JournalTimeIndex) journal.read(this, this.after + 1, untilTime);
    else journal.read(this, { fromSequence: this.after + 1, untilTime });
    return this;
  }

  onEvent(_sequence: number, f: Float64Array, w: number): void {
    const symbol = f[w + W_SYMBOL];
    const book = this.books[symbol];
    if (book === undefined || book === null) return;
    if (applyEvent(book, f[w + W_KIND], f[w + W_SIDE], f[w + W_ORDER_ID], f[w + W_PRICE], f[w + W_SIZE], f[w + W_NEW_ORDER_ID]) !== OK) return;
    this.sequences[symbol]++;
    this.timestamps[symbol] = f[w + W_TIMESTAMP];
  }
}
