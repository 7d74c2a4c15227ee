import { LevelBook } from './level-book';
import type { FeedSymbol } from './venue-adapter';
import type { FeedQuality } from './feed-quality';
import { FQ_CROSSED } from '../model/feed-words';
import { ASK, BID } from '../model/book-types';

/**
 * One symbol's side of an L2 adapter: the local copy of the venue's book, whether it is in sync,
 * and the levels the message being applied touched. A message is applied to `book` in full and
 * validated (checksum, sequence, crossing) before anything reaches bookcast's books: `commit`
 * then publishes the touched levels' final sizes, and a failed check publishes nothing and
 * leaves bookcast's books at the venue's last good state until the fresh snapshot (`commitSnapshot`
 * diffs it in).
 */
export class VenueBook {
  readonly book = new LevelBook();
  synced = false;
  /** Highest trade id printed (venues that number trades per symbol): a repeat is not printed twice, a jump is a trade gap. */
  lastTradeId = -1;
  private readonly touchedSides: number[] = [];
  private readonly touchedPrices: number[] = [];
  readonly noteRemoved = (side: number, price: number): void => this.touch(side, price);

  constructor(
    readonly feed: FeedSymbol,
    private readonly quality: FeedQuality,
    /**
     * Levels a side bookcast publishes (--feed-depth) for venues whose local copy must hold every
     * level their updates may name (Binance, Coinbase): a level entering or leaving the best
     * `publishDepth` is added to or removed from bookcast's book. Kraken truncates its copy itself.
     */
    private readonly publishDepth = Infinity,
  ) {}

  /** Starts over from a snapshot: the local copy is emptied, bookcast's books are not. */
  beginSnapshot(): void {
    this.book.clear();
    this.touchedSides.length = 0;
    this.touchedPrices.length = 0;
  }

  /** One level of the message; false when it is unreadable (NaN). */
  apply(side: number, price: number, size: number): boolean {
    if (!(price > 0) || !(size >= 0)) return false;
    this.book.set(side, price, size);
    this.touch(side, price);
    return true;
  }

  touch(side: number, price: number): void {
    this.touchedSides.push(side);
    this.touchedPrices.push(price);
  }

  /** The crossing check every message passes; counts and returns false when crossed. */
  uncrossed(): boolean {
    if (!this.book.crossed()) return true;
    this.quality.problem(this.feed, FQ_CROSSED, `best bid ${this.book.priceAt(0, 0)} at or above best ask ${this.book.priceAt(1, 0)} (units)`);
    return false;
  }

  /**
   * Publishes the touched levels of a validated update, those within the published depth; with a
   * depth, the levels the update moved across its edge too: n touched levels on a side can bring
   * at most n levels into the best `publishDepth` (from just past it) and push at most n out (to
   * just past it).
   */
  commit(timestamp: number): void {
    const orders = this.feed.orders;
    const depth = this.publishDepth;
    let touchedBids = 0;
    for (let i = 0; i < this.touchedSides.length; i++) {
      const side = this.touchedSides[i];
      const price = this.touchedPrices[i];
      if (side === BID) touchedBids++;
      const at = this.book.position(side, price);
      orders.set(side, price, at >= 0 && at < depth ? this.book.sizeAt(side, at) : 0, timestamp);
    }
    if (depth !== Infinity) {
      this.settleEdge(BID, touchedBids, timestamp);
      this.settleEdge(ASK, this.touchedSides.length - touchedBids, timestamp);
    }
    this.discard();
  }

  private settleEdge(side: number, touched: number, timestamp: number): void {
    if (touched === 0) return;
    const orders = this.feed.orders;
    const depth = this.publishDepth;
    const count = this.book.count(side);
    for (let i = Math.max(0, depth - touched); i < Math.min(count, depth); i++) orders.set(side, this.book.priceAt(side, i), this.book.sizeAt(side, i), timestamp);
    for (let i = depth; i < Math.min(count, depth + touched); i++) orders.set(side, this.book.priceAt(side, i), 0, timestamp);
  }

  /** Publishes a validated snapshot as the difference from what bookcast's books hold. */
  commitSnapshot(timestamp: number): void {
    this.discard();
    this.synced = true;
    this.feed.orders.syncTo(this.book, timestamp, this.publishDepth);
    this.quality.synced(this.feed, true);
  }

  /** Forgets the touched levels of a message that failed validation. */
  discard(): void {
    this.touchedSides.length = 0;
    this.touchedPrices.length = 0;
  }

  /** The local copy is no longer trusted: nothing is published until the next snapshot. */
  desync(): void {
    this.synced = false;
    this.discard();
    this.quality.synced(this.feed, false);
  }
}
