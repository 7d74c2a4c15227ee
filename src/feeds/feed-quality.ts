import { log as logger } from '../util/log';
import {
  FEED_CONNECTED, FEED_CONNECTS, FEED_FRAMES, FEED_MALFORMED, FQ_CHECKSUM, FQ_CROSSED, FQ_EVENTS, FQ_GAPS, FQ_MALFORMED,
  FQ_MESSAGES, FQ_RESYNCS, FQ_SYNCED, FQ_TRADE_GAPS, feedWord,
} from '../model/feed-words';
import type { FeedOrders, FeedSymbol } from './venue-adapter';

type AnySymbol = FeedSymbol<FeedOrders>;

/** The codes a data-quality problem is logged with (README, "External feeds"), by FQ_* word. */
const PROBLEM_CODES: Record<number, string> = {
  [FQ_GAPS]: 'FEED_SEQUENCE_GAP',
  [FQ_CHECKSUM]: 'FEED_CHECKSUM_MISMATCH',
  [FQ_CROSSED]: 'FEED_CROSSED_BOOK',
  [FQ_MALFORMED]: 'FEED_MALFORMED_MESSAGE',
  [FQ_TRADE_GAPS]: 'FEED_TRADE_GAP',
};

/**
 * The feed's data-quality figures (model/feed-words.ts), written by the source thread only.
 * Each kind of problem is logged the first time it happens to a symbol, then only counted:
 * a venue having a bad hour must not flood the log; the counts are in /api/v1/health.
 */
export class FeedQuality {
  private readonly logged = new Set<string>();

  constructor(
    readonly words: Float64Array,
    private readonly venue: string,
    private readonly log: (line: string) => void = (line) => logger.warn(line),
  ) {}

  connected(open: boolean): void {
    this.words[FEED_CONNECTED] = open ? 1 : 0;
    if (open) this.words[FEED_CONNECTS]++;
  }

  frame(): void {
    this.words[FEED_FRAMES]++;
  }

  /** A frame that names no symbol this feed carries could not be read. */
  malformedFrame(detail: string): void {
    this.words[FEED_MALFORMED]++;
    this.once('*', 'FEED_MALFORMED_MESSAGE', detail);
  }

  message(symbol: AnySymbol): void {
    this.words[feedWord(symbol.instrument.index, FQ_MESSAGES)]++;
    this.words[feedWord(symbol.instrument.index, FQ_EVENTS)] = symbol.orders.events;
  }

  /**
   * A venue trade id that must be the next trade of the symbol: true to print it, false for one
   * already printed (a repeat, a late one). A jump past `last + 1` counts a trade gap (FQ_TRADE_GAPS,
   * logged once) and prints the trade: the missed ones cannot be had again.
   */
  tradeId(symbol: AnySymbol, last: number, id: number): boolean {
    if (id <= last) return false;
    if (last >= 0 && id > last + 1) this.problem(symbol, FQ_TRADE_GAPS, `trade id ${last + 1} expected, ${id} received: ${id - last - 1} trade(s) missed`);
    return true;
  }

  /** A problem (FQ_GAPS, FQ_CHECKSUM, FQ_CROSSED, FQ_MALFORMED, FQ_TRADE_GAPS) on `symbol`; the caller resyncs it (not for FQ_TRADE_GAPS). */
  problem(symbol: AnySymbol, word: number, detail: string): void {
    this.words[feedWord(symbol.instrument.index, word)]++;
    this.once(symbol.venueSymbol, PROBLEM_CODES[word], detail);
  }

  /**
   * The connection is gone: every book will need the next connection's snapshot, and each one
   * that was in sync counts a resync. `desync` clears what the adapter keeps for a book.
   */
  connectionLost<B extends { synced: boolean; feed: AnySymbol }>(books: Iterable<B>, desync: (book: B) => void): void {
    for (const book of books) {
      if (book.synced) this.resync(book.feed);
      desync(book);
    }
  }

  resync(symbol: AnySymbol): void {
    this.words[feedWord(symbol.instrument.index, FQ_RESYNCS)]++;
    this.synced(symbol, false);
  }

  synced(symbol: AnySymbol, inSync: boolean): void {
    this.words[feedWord(symbol.instrument.index, FQ_SYNCED)] = inSync ? 1 : 0;
    this.words[feedWord(symbol.instrument.index, FQ_EVENTS)] = symbol.orders.events;
  }

  /** Logs a venue-level note (a refused subscription, a failed REST call) once per text. */
  note(code: string, detail: string): void {
    this.once('*', code, detail);
  }

  private once(symbol: string, code: string, detail: string): void {
    const key = `${symbol} ${code}`;
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.log(`bookcast: feed ${this.venue}${symbol === '*' ? '' : ` ${symbol}`}: ${code}: ${detail} (logged once; /api/v1/health counts every one)`);
  }
}
