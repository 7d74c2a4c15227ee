import { OrderBook } from '../engine/order-book';
import { ASK, BID } from '../model/book-types';
import { FQ_CHECKSUM, FQ_CROSSED, FQ_GAPS, FQ_MALFORMED } from '../model/feed-words';
import { bestOrders, bitfinexRawChecksum, setOrder, sideOrderCount } from './bitfinex-book';
import type { RawOrders } from './raw-orders';
import type { FeedContext, FeedSymbol, VenueAdapter } from './venue-adapter';
import { toUnits } from './wire-numbers';

/** The `len` values Bitfinex's book channel accepts (orders per side for raw books). */
export const BITFINEX_DEPTHS = [1, 25, 100, 250] as const;
/** `conf` flags: SEQ_ALL (a connection-wide sequence number on every message) + OB_CHECKSUM (`cs` messages). */
export const BITFINEX_CONF_FLAGS = 65536 + 131072;
/** Info codes: the server asks clients to reconnect; maintenance ended (subscriptions must be renewed). */
const INFO_RECONNECT = 20051;
const INFO_MAINTENANCE_END = 20061;

/** One symbol: the copy of the venue's raw book (venue ids), its channels, whether it is in sync. */
interface RawBook {
  feed: FeedSymbol<RawOrders>;
  local: OrderBook;
  synced: boolean;
  lastTradeId: number;
}

interface Channel {
  book: RawBook;
  trades: boolean;
  /** Unsubscribed by a resync: its messages until Bitfinex confirms are counted, not read. */
  retired: boolean;
}

interface BitfinexEvent {
  event?: unknown;
  channel?: unknown;
  chanId?: unknown;
  symbol?: unknown;
  code?: unknown;
  msg?: unknown;
  status?: unknown;
}

/**
 * Bitfinex WebSocket v2 public channels: raw books (`book`, `prec: R0`, order by order, a true L3
 * source: the venue's orders become bookcast's orders, RawOrders) and `trades`. On open the
 * connection asks (`conf`) for checksums and sequence numbers. Messages are arrays led by the
 * channel id the `subscribed` event named: a snapshot `[chan, [[id, price, amount], …]]`, an
 * update `[chan, [id, price, amount]]` (price 0 removes the order; amount > 0 a bid, < 0 an ask),
 * `[chan, 'cs', crc]`, `[chan, 'hb']`, trades `[chan, 'te'|'tu', [id, mts, amount, price]]`, each
 * followed by the sequence number. Validation: every `cs` against the local copy (the updates
 * before it are already published: Bitfinex sends the checksum as its own message, not with
 * each update), a crossed book after each update, unreadable messages, and the sequence (one
 * more than the message before; a gap cannot say whose message was lost, so every book is
 * resynced). Repair: unsubscribe and subscribe the book again; its snapshot is diffed into
 * bookcast's book (RawOrders.syncTo).
 */
export class BitfinexAdapter implements VenueAdapter {
  private readonly books = new Map<string, RawBook>();
  private readonly channels = new Map<number, Channel>();
  private lastSequence = -1;

  constructor(private readonly context: FeedContext<RawOrders>) {
    for (const feed of context.symbols) {
      const { tickUnits, lotUnits } = feed.instrument;
      this.books.set(feed.venueSymbol, { feed, local: new OrderBook(tickUnits, lotUnits, null), synced: false, lastTradeId: -1 });
    }
  }

  socketUrl(base: string): string {
    return base;
  }

  onOpen(): void {
    this.lastSequence = -1;
    this.channels.clear();
    this.context.link.send(JSON.stringify({ event: 'conf', flags: BITFINEX_CONF_FLAGS }));
    for (const book of this.books.values()) {
      this.desync(book);
      this.subscribeBook(book);
      this.context.link.send(JSON.stringify({ event: 'subscribe', channel: 'trades', symbol: book.feed.venueSymbol }));
    }
  }

  onClose(): void {
    this.context.quality.connectionLost(this.books.values(), (book) => this.desync(book));
  }

  onRest(): void {
    // Bitfinex's books come over the WebSocket.
  }

  onFrame(text: string, receivedUs: number): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return this.context.quality.malformedFrame(`a frame is not JSON: ${text.slice(0, 80)}`);
    }
    if (Array.isArray(message)) return this.channelMessage(message, text, receivedUs);
    if (message === null || typeof message !== 'object') return this.context.quality.malformedFrame(`a frame is not an object: ${text.slice(0, 80)}`);
    this.event(message as BitfinexEvent, text);
  }

  private event(event: BitfinexEvent, text: string): void {
    const quality = this.context.quality;
    if (event.event === 'subscribed') {
      const book = this.books.get(event.symbol as string);
      if (book === undefined || typeof event.chanId !== 'number') return quality.malformedFrame(`a subscription not asked for: ${text.slice(0, 120)}`);
      this.channels.set(event.chanId, { book, trades: event.channel === 'trades', retired: false });
    } else if (event.event === 'unsubscribed') {
      this.channels.delete(event.chanId as number);
    } else if (event.event === 'error') {
      quality.note('FEED_SUBSCRIBE_REFUSED', `Bitfinex: ${text.slice(0, 200)}`);
    } else if (event.event === 'info' && event.code === INFO_RECONNECT) {
      this.context.link.reconnect('Bitfinex asked clients to reconnect (info 20051)');
    } else if (event.event === 'info' && event.code === INFO_MAINTENANCE_END) {
      for (const book of this.books.values()) this.resync(book);
    } else if (event.event === 'conf' && event.status !== 'OK') {
      quality.note('FEED_SUBSCRIBE_REFUSED', `Bitfinex refused the checksum and sequence flags: ${text.slice(0, 200)}`);
    } else if (event.event !== 'info' && event.event !== 'conf' && event.event !== 'pong') {
      quality.malformedFrame(`unexpected event: ${text.slice(0, 80)}`);
    }
  }

  private channelMessage(message: unknown[], text: string, receivedUs: number): void {
    const kind = typeof message[1] === 'string' ? message[1] : '';
    // The sequence number follows the payload: [chan, data, seq], [chan, 'hb', seq], [chan, 'cs'|'te'|'tu', payload, seq].
    const sequence = message[kind === '' || kind === 'hb' ? 2 : 3];
    if (typeof sequence === 'number') this.sequence(sequence);
    const channel = this.channels.get(message[0] as number);
    if (channel === undefined) return this.context.quality.malformedFrame(`a message of no subscribed channel: ${text.slice(0, 80)}`);
    if (kind === 'hb') return;
    const book = channel.book;
    this.context.quality.message(book.feed);
    if (channel.retired) return;
    if (channel.trades) {
      if (kind === 'te' || kind === 'tu') this.trade(book, message[2], receivedUs);
      else if (kind === '' && Array.isArray(message[1])) this.tradeSnapshot(book, message[1]);
      else this.context.quality.problem(book.feed, FQ_MALFORMED, `unreadable trades message: ${text.slice(0, 80)}`);
    } else if (kind === 'cs') {
      this.checksum(book, message[2]);
    } else if (kind === '' && Array.isArray(message[1]) && (message[1].length === 0 || Array.isArray(message[1][0]))) {
      this.snapshot(book, message[1] as unknown[], receivedUs);
    } else if (kind === '' && Array.isArray(message[1])) {
      if (book.synced) this.update(book, message[1], receivedUs);
    } else {
      this.context.quality.problem(book.feed, FQ_MALFORMED, `unreadable book message: ${text.slice(0, 80)}`);
      this.resync(book);
    }
  }

  private sequence(sequence: number): void {
    const expected = this.lastSequence + 1;
    const gap = this.lastSequence >= 0 && sequence !== expected;
    this.lastSequence = Math.max(this.lastSequence, sequence);
    if (!gap) return;
    for (const book of this.books.values()) {
      if (!book.synced) continue;
      this.context.quality.problem(book.feed, FQ_GAPS, `expected sequence ${expected}, got ${sequence}`);
      this.resync(book);
    }
  }

  /** [id, price, amount] as venue id, side, price units, size units; null when unreadable. */
  private entry(book: RawBook, entry: unknown): [number, number, number, number] | null {
    if (!Array.isArray(entry) || entry.length < 3) return null;
    const [id, price, amount] = entry as unknown[];
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0 || typeof amount !== 'number' || amount === 0 || typeof price !== 'number') return null;
    const { priceDecimals, sizeDecimals } = book.feed.instrument;
    if (price === 0) return [id, amount > 0 ? BID : ASK, 0, 0];
    const units = [toUnits(price, priceDecimals), toUnits(Math.abs(amount), sizeDecimals)];
    if (!(units[0] > 0) || !(units[1] > 0)) return null;
    return [id, amount > 0 ? BID : ASK, units[0], units[1]];
  }

  private snapshot(book: RawBook, entries: unknown[], receivedUs: number): void {
    book.local.clear();
    for (const raw of entries) {
      const entry = this.entry(book, raw);
      if (entry === null || entry[2] === 0 || !setOrder(book.local, entry[1], entry[0], entry[2], entry[3])) {
        this.context.quality.problem(book.feed, FQ_MALFORMED, 'unreadable raw book snapshot');
        return this.resync(book);
      }
    }
    if (!this.uncrossed(book)) return this.resync(book);
    book.feed.orders.syncTo(book.local, receivedUs);
    book.synced = true;
    this.context.quality.synced(book.feed, true);
  }

  private update(book: RawBook, raw: unknown[], receivedUs: number): void {
    const entry = this.entry(book, raw);
    if (entry === null || !setOrder(book.local, entry[1], entry[0], entry[2], entry[3])) {
      this.context.quality.problem(book.feed, FQ_MALFORMED, 'unreadable raw book update');
      return this.resync(book);
    }
    // An order the subscription's length no longer covers gets no removal: dropped here (as Kraken's levels are).
    const dropped = this.truncate(book, entry[1]);
    if (!this.uncrossed(book)) return this.resync(book);
    const orders = book.feed.orders;
    const local = book.local;
    const id = entry[0];
    if (local.hasOrder(id)) orders.set(local.orderSide(id), id, local.orderPrice(id), local.orderSize(id), receivedUs);
    else orders.set(entry[1], id, 0, 0, receivedUs);
    for (const gone of dropped) orders.set(entry[1], gone, 0, 0, receivedUs);
  }

  private truncate(book: RawBook, side: number): number[] {
    const extra = sideOrderCount(book.local, side) - this.context.depth;
    if (extra <= 0) return [];
    const keep = new Set(bestOrders(book.local, side, this.context.depth));
    const dropped: number[] = [];
    book.local.forEachOrder(side, { visit: (id) => void (keep.has(id) || dropped.push(id)) });
    for (const id of dropped) book.local.delete(id);
    return dropped;
  }

  private checksum(book: RawBook, checksum: unknown): void {
    if (!book.synced) return;
    if (typeof checksum !== 'number') {
      this.context.quality.problem(book.feed, FQ_MALFORMED, 'a checksum message without a number');
      return this.resync(book);
    }
    const local = bitfinexRawChecksum(book.local, book.feed.instrument.sizeDecimals);
    if (local === checksum) return;
    this.context.quality.problem(book.feed, FQ_CHECKSUM, `Bitfinex sent ${checksum}, the local book gives ${local}`);
    this.resync(book);
  }

  private uncrossed(book: RawBook): boolean {
    const local = book.local;
    if (local.levelCount(BID) === 0 || local.levelCount(ASK) === 0 || local.bestPrice(BID) < local.bestPrice(ASK)) return true;
    this.context.quality.problem(book.feed, FQ_CROSSED, `best bid ${local.bestPrice(BID)} at or above best ask ${local.bestPrice(ASK)} (units)`);
    return false;
  }

  /** The subscription's snapshot lists recent trades already printed (or from before bookcast started): only remembered. */
  private tradeSnapshot(book: RawBook, trades: unknown[]): void {
    for (const trade of trades) if (Array.isArray(trade) && typeof trade[0] === 'number') book.lastTradeId = Math.max(book.lastTradeId, trade[0]);
  }

  /** `te` (executed) prints; `tu` (the same trade, confirmed) prints only if its `te` was not seen. */
  private trade(book: RawBook, trade: unknown, receivedUs: number): void {
    const fields = Array.isArray(trade) ? (trade as unknown[]) : [];
    const [id, , amount, price] = fields;
    const { priceDecimals, sizeDecimals } = book.feed.instrument;
    const priceUnits = toUnits(price, priceDecimals);
    const size = typeof amount === 'number' ? toUnits(Math.abs(amount), sizeDecimals) : NaN;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || !(priceUnits > 0) || !(size > 0)) {
      return this.context.quality.problem(book.feed, FQ_MALFORMED, 'unreadable trade');
    }
    if (id <= book.lastTradeId) return;
    book.lastTradeId = id;
    // Bitfinex's amount is the taker's: positive bought, negative sold.
    book.feed.orders.trade((amount as number) > 0 ? BID : ASK, priceUnits, size, receivedUs);
  }

  private subscribeBook(book: RawBook): void {
    const request = { event: 'subscribe', channel: 'book', symbol: book.feed.venueSymbol, prec: 'R0', freq: 'F0', len: String(this.context.depth) };
    this.context.link.send(JSON.stringify(request));
  }

  private desync(book: RawBook): void {
    book.synced = false;
    this.context.quality.synced(book.feed, false);
  }

  /** Unsubscribes the book's channel and subscribes again: Bitfinex answers with a fresh snapshot. */
  private resync(book: RawBook): void {
    this.desync(book);
    this.context.quality.resync(book.feed);
    for (const [chanId, channel] of this.channels) {
      if (channel.book !== book || channel.trades || channel.retired) continue;
      channel.retired = true;
      this.context.link.send(JSON.stringify({ event: 'unsubscribe', chanId }));
    }
    this.subscribeBook(book);
  }
}
