import { ASK, BID } from '../model/book-types';
import { FQ_MALFORMED } from '../model/feed-words';
import { applyKrakenBook } from './kraken-book';
import { keepKrakenTicker, type KrakenTickerFields } from './kraken-ticker';
import { VenueBook } from './venue-book';
import type { FeedContext, VenueAdapter } from './venue-adapter';
import { quoteNumbers, toUnits } from './wire-numbers';

/** The book depths Kraken's v2 `book` channel accepts. */
export const KRAKEN_DEPTHS = [10, 25, 100, 500, 1000] as const;

const quote = quoteNumbers('price|qty|bid|bid_qty|ask|ask_qty|last|volume|vwap|low|high|change|change_pct');

interface Level {
  price?: unknown;
  qty?: unknown;
}

const levelPrice = (level: unknown): unknown => (level as Level)?.price;
const levelQty = (level: unknown): unknown => (level as Level)?.qty;

interface BookEntry {
  symbol?: unknown;
  bids?: unknown;
  asks?: unknown;
  checksum?: unknown;
}

interface TradeEntry {
  symbol?: unknown;
  side?: unknown;
  price?: unknown;
  qty?: unknown;
  trade_id?: unknown;
}

/**
 * Kraken Spot WebSocket v2: `book` (snapshot, then updates at the subscribed depth), `trade` and
 * `ticker` (kept for operators, never published: kraken-ticker.ts).
 * Every book message, snapshot or update, carries Kraken's CRC32 of the top 10 levels; it is
 * checked after the message is applied and the book truncated to the subscribed depth (Kraken
 * sends no removal for a level pushed out of the depth by an insert: the client drops it). A
 * mismatch, a crossed book or an unreadable book message desynchronises the symbol; it is
 * unsubscribed and subscribed again, and the snapshot that follows is diffed into bookcast's book.
 * Reordered or lost updates show up as checksum mismatches: v2 has no sequence numbers.
 */
export class KrakenAdapter implements VenueAdapter {
  private readonly books = new Map<string, VenueBook>();
  private requestId = 0;

  constructor(private readonly context: FeedContext) {
    for (const symbol of context.symbols) this.books.set(symbol.venueSymbol, new VenueBook(symbol, context.quality));
  }

  socketUrl(base: string): string {
    return base;
  }

  onOpen(): void {
    for (const book of this.books.values()) book.desync();
    const symbols = [...this.books.keys()];
    this.send('subscribe', { channel: 'book', symbol: symbols, depth: this.context.depth, snapshot: true });
    // No trade snapshot: after a reconnect it would print the last 50 trades again.
    this.send('subscribe', { channel: 'trade', symbol: symbols, snapshot: false });
    // The ticker's snapshot is its current state: welcome after a reconnect too.
    this.send('subscribe', { channel: 'ticker', symbol: symbols, snapshot: true });
  }

  /** Every synced book will need the snapshot of the next connection: counted as a resync. */
  onClose(): void {
    this.context.quality.connectionLost(this.books.values(), (book) => book.desync());
  }

  onRest(): void {
    // Kraken's book needs no REST snapshot.
  }

  onFrame(text: string, receivedUs: number): void {
    let message: { channel?: unknown; type?: unknown; data?: unknown; method?: unknown; success?: unknown; error?: unknown };
    try {
      message = JSON.parse(quote(text));
    } catch {
      this.context.quality.malformedFrame(`a frame is not JSON: ${text.slice(0, 80)}`);
      return;
    }
    if (message === null || typeof message !== 'object') {
      this.context.quality.malformedFrame(`a frame is not an object: ${text.slice(0, 80)}`);
    } else if (message.channel === 'book' && Array.isArray(message.data) && (message.type === 'snapshot' || message.type === 'update')) {
      for (const entry of message.data as BookEntry[]) this.book(entry, message.type === 'snapshot', receivedUs);
    } else if (message.channel === 'trade' && Array.isArray(message.data)) {
      for (const entry of message.data as TradeEntry[]) this.trade(entry, receivedUs);
    } else if (message.channel === 'ticker' && Array.isArray(message.data)) {
      for (const entry of message.data as (KrakenTickerFields & { symbol?: unknown })[]) this.ticker(entry, receivedUs);
    } else if (message.method !== undefined) {
      if (message.success === false) this.context.quality.note('FEED_SUBSCRIBE_REFUSED', `Kraken refused ${String(message.method)}: ${String(message.error)}`);
    } else if (message.channel !== 'heartbeat' && message.channel !== 'status' && message.channel !== 'instrument') {
      this.context.quality.malformedFrame(`unexpected frame: ${text.slice(0, 80)}`);
    }
  }

  private book(entry: BookEntry, snapshot: boolean, receivedUs: number): void {
    const book = this.books.get(entry?.symbol as string);
    if (book === undefined) {
      this.context.quality.malformedFrame(`book data for a symbol not subscribed: ${String(entry?.symbol)}`);
      return;
    }
    this.context.quality.message(book.feed);
    if (!snapshot && !book.synced) return; // an update of the subscription being replaced
    const checksum = entry.checksum === undefined && snapshot ? undefined : typeof entry.checksum === 'number' ? entry.checksum : NaN;
    const sides = [
      { side: BID, levels: entry.bids, price: levelPrice, qty: levelQty },
      { side: ASK, levels: entry.asks, price: levelPrice, qty: levelQty },
    ];
    if (!applyKrakenBook(book, this.context.quality, this.context.depth, snapshot, sides, checksum, receivedUs)) this.resync(book);
  }

  private trade(entry: TradeEntry, receivedUs: number): void {
    const book = this.books.get(entry?.symbol as string);
    if (book === undefined) {
      this.context.quality.malformedFrame(`trade for a symbol not subscribed: ${String(entry?.symbol)}`);
      return;
    }
    this.context.quality.message(book.feed);
    const { priceDecimals, sizeDecimals } = book.feed.instrument;
    const price = toUnits(entry.price, priceDecimals);
    const size = toUnits(entry.qty, sizeDecimals);
    const id = typeof entry.trade_id === 'number' ? entry.trade_id : NaN;
    if (!(price > 0) || !(size > 0) || (entry.side !== 'buy' && entry.side !== 'sell') || Number.isNaN(id)) {
      this.context.quality.problem(book.feed, FQ_MALFORMED, 'unreadable trade');
      return;
    }
    if (!this.context.quality.tradeId(book.feed, book.lastTradeId, id)) return;
    book.lastTradeId = id;
    book.feed.orders.trade(entry.side === 'buy' ? BID : ASK, price, size, receivedUs);
  }

  private ticker(entry: KrakenTickerFields & { symbol?: unknown }, receivedUs: number): void {
    const book = this.books.get(entry?.symbol as string);
    if (book === undefined) {
      this.context.quality.malformedFrame(`ticker for a symbol not subscribed: ${String(entry?.symbol)}`);
      return;
    }
    this.context.quality.message(book.feed);
    keepKrakenTicker(book, this.context.quality, entry, receivedUs);
  }

  /** Unsubscribes the symbol's book and subscribes again: Kraken answers with a fresh snapshot. */
  private resync(book: VenueBook): void {
    book.desync();
    this.context.quality.resync(book.feed);
    const params = { channel: 'book', symbol: [book.feed.venueSymbol], depth: this.context.depth };
    this.send('unsubscribe', params);
    this.send('subscribe', { ...params, snapshot: true });
  }

  private send(method: string, params: object): void {
    this.context.link.send(JSON.stringify({ method, params, req_id: ++this.requestId }));
  }
}
