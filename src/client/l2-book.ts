import { bookChecksum } from './book-checksum';
import type { L2SnapshotMessage, L2UpdateMessage, Level } from './messages';
import { StreamCheck } from './stream-check';

/** One side, best first: prices ascending for asks, descending for bids. */
class BookSide {
  readonly levels: Level[] = [];
  /** The prices of `levels` as numbers, for ordering (decimal strings of one symbol share their scale, so numbers order them exactly). */
  private readonly keys: number[] = [];

  constructor(private readonly descending: boolean) {}

  clear(): void {
    this.levels.length = 0;
    this.keys.length = 0;
  }

  /** An absolute level: a zero size removes it. */
  set(price: string, size: string): void {
    const key = Number(price);
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.descending ? this.keys[mid] > key : this.keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    const found = lo < this.keys.length && this.keys[lo] === key;
    if (Number(size) === 0) {
      if (found) {
        this.levels.splice(lo, 1);
        this.keys.splice(lo, 1);
      }
    } else if (found) {
      this.levels[lo] = [price, size];
    } else {
      this.levels.splice(lo, 0, [price, size]);
      this.keys.splice(lo, 0, key);
    }
  }
}

/** What applying a message found: applied, a sequence gap, or a checksum that disagrees with the book. */
export type ApplyResult = 'ok' | 'gap' | 'checksum';

/**
 * An L2 book kept from a snapshot and its updates, verified on every message: the sequence
 * rule, and the server's checksum against the one computed from this book's own strings.
 */
export class L2Book {
  private readonly bidSide = new BookSide(true);
  private readonly askSide = new BookSide(false);
  private readonly check = new StreamCheck();
  depth = 0;

  constructor(readonly symbol: string) {}

  /** The sequence this book reflects (-1 before its snapshot). */
  get sequence(): number {
    return this.check.sequence;
  }

  /** Best first. */
  get bids(): readonly Level[] {
    return this.bidSide.levels;
  }

  get asks(): readonly Level[] {
    return this.askSide.levels;
  }

  /** The top `n` levels a side, as REST's orderbook renders them. */
  top(n: number): { bids: Level[]; asks: Level[] } {
    return { bids: this.bids.slice(0, n), asks: this.asks.slice(0, n) };
  }

  checksum(): number {
    return bookChecksum(this.bids, this.asks);
  }

  applySnapshot(m: L2SnapshotMessage): ApplyResult {
    this.bidSide.clear();
    this.askSide.clear();
    for (const [p, s] of m.data.bids) this.bidSide.set(p, s);
    for (const [p, s] of m.data.asks) this.askSide.set(p, s);
    this.depth = m.data.depth;
    this.check.snapshot(m.sequence);
    return this.checksum() === m.checksum ? 'ok' : 'checksum';
  }

  applyUpdate(m: L2UpdateMessage): ApplyResult {
    if (!this.check.update(m.sequence, m.prev_sequence)) return 'gap';
    for (const [p, s] of m.data.bids) this.bidSide.set(p, s);
    for (const [p, s] of m.data.asks) this.askSide.set(p, s);
    return this.checksum() === m.checksum ? 'ok' : 'checksum';
  }
}
