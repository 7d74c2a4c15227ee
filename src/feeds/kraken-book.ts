import { FQ_CHECKSUM, FQ_MALFORMED } from '../model/feed-words';
import type { FeedQuality } from './feed-quality';
import { krakenChecksum } from './kraken-checksum';
import type { VenueBook } from './venue-book';
import { toUnits } from './wire-numbers';

/** One side's levels of a Kraken book message and how to read a level's price and quantity. */
export interface KrakenSide {
  side: number;
  levels: unknown;
  price(level: unknown): unknown;
  qty(level: unknown): unknown;
}

/**
 * Applies one Kraken book message (v1 or v2: the same book rules and checksum) to the symbol's
 * copy and validates it: every level readable, the book truncated to the subscribed depth (Kraken
 * sends no removal for a level an insert pushes out), the CRC32 of the top 10 equal to `checksum`
 * (undefined: a snapshot without one), not crossed. Valid: published (a snapshot diffed in).
 * Returns false, counted, when the symbol must be resubscribed.
 */
export function applyKrakenBook(book: VenueBook, quality: FeedQuality, depth: number, snapshot: boolean, sides: KrakenSide[], checksum: number | undefined, receivedUs: number): boolean {
  if (snapshot) book.beginSnapshot();
  const { priceDecimals, sizeDecimals } = book.feed.instrument;
  for (const s of sides) {
    const levels = s.levels;
    const readable = Array.isArray(levels) && levels.every((level) => book.apply(s.side, toUnits(s.price(level), priceDecimals), toUnits(s.qty(level), sizeDecimals)));
    if (!readable || (checksum !== undefined && !Number.isSafeInteger(checksum))) {
      quality.problem(book.feed, FQ_MALFORMED, `unreadable book ${snapshot ? 'snapshot' : 'update'}`);
      return false;
    }
  }
  for (const side of [0, 1]) book.book.truncate(side, depth, book.noteRemoved);
  const local = krakenChecksum(book.book);
  if (checksum !== undefined && local !== checksum) {
    quality.problem(book.feed, FQ_CHECKSUM, `Kraken sent ${checksum}, the local book gives ${local}`);
    return false;
  }
  if (!book.uncrossed()) return false;
  if (snapshot) book.commitSnapshot(receivedUs);
  else book.commit(receivedUs);
  return true;
}
