import { FQ_MALFORMED } from '../model/feed-words';
import { writeVenueTicker } from '../model/venue-tickers';
import type { FeedQuality } from './feed-quality';
import type { VenueBook } from './venue-book';

/** The fields kept of Kraken's ticker, as /api/v1/health names them (v2's own names). */
export const KRAKEN_TICKER_FIELDS = ['bid', 'bid_qty', 'ask', 'ask_qty', 'last', 'volume', 'vwap', 'high', 'low'] as const;

export type KrakenTickerFields = Partial<Record<(typeof KRAKEN_TICKER_FIELDS)[number], unknown>>;

/** A non-negative decimal as Kraken writes it (v2's JSON numbers quoted before parsing, so possibly 1e-05). */
const DECIMAL = /^\d{1,24}(\.\d{1,24})?([eE][+-]?\d{1,3})?$/;

/**
 * Kraken's own ticker of a symbol (v2 `ticker`, v1 `ticker`), kept for operators, never published:
 * it arrives unsynchronised with the book channel (its best bid/ask may differ from the book for a
 * moment) and its 24-hour figures cover Kraken's whole market, so it cannot be bookcast's ticker,
 * which agrees with the book bookcast publishes. Every field must be a decimal string; a ticker
 * that is not is counted malformed on the symbol (logged once) and the last good one stays.
 */
export function keepKrakenTicker(book: VenueBook, quality: FeedQuality, fields: KrakenTickerFields, receivedUs: number): void {
  const ticker: Record<string, string> = {};
  for (const name of KRAKEN_TICKER_FIELDS) {
    const value = fields[name];
    if (typeof value !== 'string' || !DECIMAL.test(value)) {
      quality.problem(book.feed, FQ_MALFORMED, `unreadable ticker: ${name} ${JSON.stringify(value) ?? 'missing'}`);
      return;
    }
    ticker[name] = value;
  }
  ticker.received_at = new Date(Math.floor(receivedUs / 1000)).toISOString();
  // Cannot happen with DECIMAL's bounds (the slot holds the longest ticker they allow).
  if (!writeVenueTicker(quality.words, book.feed.instrument.index, ticker)) quality.problem(book.feed, FQ_MALFORMED, 'ticker too long to keep');
}
