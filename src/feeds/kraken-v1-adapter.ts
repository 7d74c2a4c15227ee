import { ASK, BID } from '../model/book-types';
import { FQ_MALFORMED } from '../model/feed-words';
import { applyKrakenBook, KrakenSide } from './kraken-book';
import { keepKrakenTicker } from './kraken-ticker';
import { VenueBook } from './venue-book';
import type { FeedContext, VenueAdapter } from './venue-adapter';
import { toUnits } from './wire-numbers';

/** A v1 level: [price, volume, timestamp] and, on a republished level, a fourth element "r". */
const levelPrice = (level: unknown): unknown => (Array.isArray(level) ? level[0] : undefined);
const levelQty = (level: unknown): unknown => (Array.isArray(level) ? level[1] : undefined);

/**
 * Kraken's WebSocket v1 (still served at ws.kraken.com): `book`, `trade` and `ticker` (kept for
 * operators, never published: kraken-ticker.ts; its 24-hour figures are the second of each pair). Messages are arrays
 * `[channelID, payload…, channelName, pair]`: a book snapshot's payload is `{as, bs}`, an update's
 * one or two objects `{a}`, `{b}`, the last carrying `c`, Kraken's CRC32 of the top 10 (the same
 * algorithm as v2) as a decimal string. Prices and volumes are strings at the pair's decimals, so
 * they convert to units exactly. A level marked "r" (republished: a level Kraken sends again) is
 * applied like any other. Validation and repair are v2's (kraken-book.ts): truncation to the
 * depth, the checksum on every update, crossing, unreadable messages; a desynchronised symbol is
 * unsubscribed and subscribed again. v1 trades carry no id and the subscription sends no past
 * trades, so each is printed as it comes: `[price, volume, time, side "b"|"s", type, misc]`.
 */
export class KrakenV1Adapter implements VenueAdapter {
  private readonly books = new Map<string, VenueBook>();

  constructor(private readonly context: FeedContext) {
    for (const symbol of context.symbols) this.books.set(symbol.venueSymbol, new VenueBook(symbol, context.quality));
  }

  socketUrl(base: string): string {
    return base;
  }

  onOpen(): void {
    for (const book of this.books.values()) book.desync();
    const pairs = [...this.books.keys()];
    this.send('subscribe', pairs, { name: 'book', depth: this.context.depth });
    this.send('subscribe', pairs, { name: 'trade' });
    this.send('subscribe', pairs, { name: 'ticker' });
  }

  onClose(): void {
    this.context.quality.connectionLost(this.books.values(), (book) => book.desync());
  }

  onRest(): void {
    // Kraken's book needs no REST snapshot.
  }

  onFrame(text: string, receivedUs: number): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return this.context.quality.malformedFrame(`a frame is not JSON: ${text.slice(0, 80)}`);
    }
    if (Array.isArray(message) && message.length >= 4) {
      const name = message[message.length - 2];
      const book = this.books.get(message[message.length - 1] as string);
      if (book === undefined || typeof name !== 'string') return this.context.quality.malformedFrame(`unexpected frame: ${text.slice(0, 80)}`);
      this.context.quality.message(book.feed);
      const payload = message.slice(1, -2);
      if (name.startsWith('book-')) this.book(book, payload as Record<string, unknown>[], receivedUs);
      else if (name === 'trade') this.trades(book, payload[0], receivedUs);
      else if (name === 'ticker') this.ticker(book, payload[0], receivedUs);
      else this.context.quality.malformedFrame(`unexpected channel: ${text.slice(0, 80)}`);
      return;
    }
    const event = (message as { event?: unknown; status?: unknown; errorMessage?: unknown } | null)?.event;
    if (event === 'subscriptionStatus' && (message as { status?: unknown }).status === 'error') {
      this.context.quality.note('FEED_SUBSCRIBE_REFUSED', `Kraken refused a subscription: ${text.slice(0, 200)}`);
    } else if (event !== 'heartbeat' && event !== 'systemStatus' && event !== 'subscriptionStatus' && event !== 'pong') {
      this.context.quality.malformedFrame(`unexpected frame: ${text.slice(0, 80)}`);
    }
  }

  private book(book: VenueBook, payload: Record<string, unknown>[], receivedUs: number): void {
    const first = payload[0] ?? {};
    const snapshot = 'as' in first || 'bs' in first;
    if (!snapshot && !book.synced) return; // an update of the subscription being replaced
    const sides: KrakenSide[] = [];
    let checksum: number | undefined;
    for (const part of payload) {
      if (part === null || typeof part !== 'object') continue;
      for (const [key, side] of [[snapshot ? 'bs' : 'b', BID], [snapshot ? 'as' : 'a', ASK]] as const) {
        if (key in part) sides.push({ side, levels: part[key], price: levelPrice, qty: levelQty });
      }
      if ('c' in part) checksum = typeof part.c === 'string' && /^\d+$/.test(part.c) ? Number(part.c) : NaN;
    }
    if (!snapshot && checksum === undefined) checksum = NaN; // every update carries one
    if (sides.length === 0) checksum = NaN;
    if (!applyKrakenBook(book, this.context.quality, this.context.depth, snapshot, sides, checksum, receivedUs)) this.resync(book);
  }

  private trades(book: VenueBook, trades: unknown, receivedUs: number): void {
    const { priceDecimals, sizeDecimals } = book.feed.instrument;
    for (const trade of Array.isArray(trades) ? trades : [null]) {
      const fields = Array.isArray(trade) ? trade : [];
      const price = toUnits(fields[0], priceDecimals);
      const size = toUnits(fields[1], sizeDecimals);
      if (!(price > 0) || !(size > 0) || (fields[3] !== 'b' && fields[3] !== 's')) {
        this.context.quality.problem(book.feed, FQ_MALFORMED, 'unreadable trade');
        continue;
      }
      book.feed.orders.trade(fields[3] === 'b' ? BID : ASK, price, size, receivedUs);
    }
  }

  /** `{a: [price, whole lot volume, lot volume], b: same, c: [price, lot volume], v, p, l, h: [today, last 24 hours], …}`. */
  private ticker(book: VenueBook, payload: unknown, receivedUs: number): void {
    const fields = (payload !== null && typeof payload === 'object' ? payload : {}) as Record<string, unknown>;
    const at = (key: string, index: number): unknown => (Array.isArray(fields[key]) ? (fields[key] as unknown[])[index] : undefined);
    keepKrakenTicker(book, this.context.quality, {
      bid: at('b', 0), bid_qty: at('b', 2), ask: at('a', 0), ask_qty: at('a', 2), last: at('c', 0),
      volume: at('v', 1), vwap: at('p', 1), high: at('h', 1), low: at('l', 1),
    }, receivedUs);
  }

  private resync(book: VenueBook): void {
    book.desync();
    this.context.quality.resync(book.feed);
    const subscription = { name: 'book', depth: this.context.depth };
    this.send('unsubscribe', [book.feed.venueSymbol], subscription);
    this.send('subscribe', [book.feed.venueSymbol], subscription);
  }

  private send(event: string, pair: string[], subscription: object): void {
    this.context.link.send(JSON.stringify({ event, pair, subscription }));
  }
}
