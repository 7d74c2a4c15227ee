import { ASK, BID } from '../model/book-types';
import { FQ_GAPS, FQ_MALFORMED } from '../model/feed-words';
import { VenueBook } from './venue-book';
import { FeedContext, publishedDepth, VenueAdapter } from './venue-adapter';
import { toUnits } from './wire-numbers';

interface Message {
  channel?: unknown;
  sequence_num?: unknown;
  events?: unknown;
}

interface L2Event {
  type?: unknown;
  product_id?: unknown;
  updates?: unknown;
}

interface L2Update {
  side?: unknown;
  price_level?: unknown;
  new_quantity?: unknown;
}

interface Trade {
  trade_id?: unknown;
  product_id?: unknown;
  price?: unknown;
  size?: unknown;
  side?: unknown;
}

/**
 * Coinbase Advanced Trade: `level2` (received as `l2_data`: a snapshot of the whole book, then
 * updates whose `new_quantity` is the level's new size, "0" removing it) and `market_trades`, plus
 * `heartbeats` to keep a quiet connection open. Every message on the connection carries
 * `sequence_num`, one more than the message before it; a skipped or repeated number means a
 * message was lost or reordered, and, since it cannot say whose message it was, every product's
 * book is resubscribed (unsubscribe, subscribe: Coinbase answers with a fresh snapshot), as it is
 * for a crossed book or an unreadable message of one product. The snapshot is the whole book (tens
 * of thousands of levels, frames of several MB: feed-connection.ts takes frames up to 64 MiB).
 */
export class CoinbaseAdapter implements VenueAdapter {
  private readonly books = new Map<string, VenueBook>();
  /** sequence_num of the last message, -1 before the first on a connection. */
  private lastSequence = -1;

  constructor(private readonly context: FeedContext) {
    for (const symbol of context.symbols) this.books.set(symbol.venueSymbol, new VenueBook(symbol, context.quality, publishedDepth(context)));
  }

  socketUrl(base: string): string {
    return base;
  }

  onOpen(): void {
    this.lastSequence = -1;
    const products = [...this.books.keys()];
    for (const channel of ['heartbeats', 'level2', 'market_trades']) this.send('subscribe', channel, products);
  }

  /** Every synced book will need the snapshot of the next connection: counted as a resync. */
  onClose(): void {
    this.context.quality.connectionLost(this.books.values(), (book) => book.desync());
  }

  onRest(): void {
    // The level2 snapshot comes over the WebSocket.
  }

  onFrame(text: string, receivedUs: number): void {
    let message: Message;
    try {
      message = JSON.parse(text);
    } catch {
      this.context.quality.malformedFrame(`a frame is not JSON: ${text.slice(0, 80)}`);
      return;
    }
    if (message === null || typeof message !== 'object') return this.context.quality.malformedFrame(`a frame is not an object: ${text.slice(0, 80)}`);
    if (typeof message.sequence_num === 'number') {
      const expected = this.lastSequence + 1;
      const gap = this.lastSequence >= 0 && message.sequence_num !== expected;
      // A late message (a reordering) does not move the count back: the ones after it still follow on.
      this.lastSequence = Math.max(this.lastSequence, message.sequence_num);
      if (gap) {
        // One incident, one repair: books already waiting for a snapshot are not asked again.
        for (const book of this.books.values()) {
          if (!book.synced) continue;
          this.context.quality.problem(book.feed, FQ_GAPS, `expected sequence_num ${expected}, got ${message.sequence_num}`);
          this.resync(book);
        }
      }
    }
    const events = Array.isArray(message.events) ? (message.events as L2Event[]) : [];
    if (message.channel === 'l2_data') for (const event of events) this.level2(event, receivedUs);
    else if (message.channel === 'market_trades') for (const event of events) this.trades(event as { trades?: unknown }, receivedUs);
    else if (message.channel === 'error' || (message as { type?: unknown }).type === 'error') {
      this.context.quality.note('FEED_SUBSCRIBE_REFUSED', `Coinbase: ${text.slice(0, 200)}`);
    } else if (message.channel !== 'heartbeats' && message.channel !== 'subscriptions') {
      this.context.quality.malformedFrame(`unexpected frame: ${text.slice(0, 80)}`);
    }
  }

  private level2(event: L2Event, receivedUs: number): void {
    const book = this.books.get(event?.product_id as string);
    if (book === undefined) return this.context.quality.malformedFrame(`level2 for a product not subscribed: ${String(event?.product_id)}`);
    this.context.quality.message(book.feed);
    const snapshot = event.type === 'snapshot';
    if (snapshot) book.beginSnapshot();
    else if (event.type !== 'update' || !book.synced) return; // an update of the subscription being replaced
    if (!Array.isArray(event.updates)) {
      this.context.quality.problem(book.feed, FQ_MALFORMED, 'level2 event without updates');
      return this.resync(book);
    }
    const { priceDecimals, sizeDecimals } = book.feed.instrument;
    for (const update of event.updates as L2Update[]) {
      const side = update?.side === 'bid' ? BID : update?.side === 'offer' ? ASK : -1;
      if (side < 0 || !book.apply(side, toUnits(update.price_level, priceDecimals), toUnits(update.new_quantity, sizeDecimals))) {
        this.context.quality.problem(book.feed, FQ_MALFORMED, `unreadable level2 ${snapshot ? 'snapshot' : 'update'}`);
        return this.resync(book);
      }
    }
    if (!book.uncrossed()) return this.resync(book);
    if (snapshot) book.commitSnapshot(receivedUs);
    else book.commit(receivedUs);
  }

  private trades(event: { trades?: unknown }, receivedUs: number): void {
    if (!Array.isArray(event?.trades)) return this.context.quality.malformedFrame('market_trades event without trades');
    // Coinbase lists a batch newest first: printed oldest first.
    for (const trade of [...(event.trades as Trade[])].reverse()) {
      const book = this.books.get(trade?.product_id as string);
      if (book === undefined) continue;
      this.context.quality.message(book.feed);
      const { priceDecimals, sizeDecimals } = book.feed.instrument;
      const price = toUnits(trade.price, priceDecimals);
      const size = toUnits(trade.size, sizeDecimals);
      const id = Number(trade.trade_id);
      if (!(price > 0) || !(size > 0) || (trade.side !== 'BUY' && trade.side !== 'SELL') || !Number.isSafeInteger(id)) {
        this.context.quality.problem(book.feed, FQ_MALFORMED, 'unreadable trade');
        continue;
      }
      // The subscription's first batch repeats recent trades: those are not printed again.
      if (!this.context.quality.tradeId(book.feed, book.lastTradeId, id)) continue;
      book.lastTradeId = id;
      // Coinbase's side is the maker's: a SELL maker means the buyer took liquidity.
      book.feed.orders.trade(trade.side === 'SELL' ? BID : ASK, price, size, receivedUs);
    }
  }

  private resync(book: VenueBook): void {
    book.desync();
    this.context.quality.resync(book.feed);
    this.send('unsubscribe', 'level2', [book.feed.venueSymbol]);
    this.send('subscribe', 'level2', [book.feed.venueSymbol]);
  }

  private send(type: string, channel: string, products: string[]): void {
    this.context.link.send(JSON.stringify({ type, product_ids: products, channel }));
  }
}
