import { ASK, BID } from '../model/book-types';
import { FQ_GAPS, FQ_MALFORMED } from '../model/feed-words';
import { VenueBook } from './venue-book';
import { FeedContext, publishedDepth, VenueAdapter } from './venue-adapter';
import { toUnits } from './wire-numbers';

/** Diffs kept while a REST snapshot is awaited; past it the buffer is restarted (a gap). */
const MAX_BUFFERED = 10_000;
/** Levels asked of the REST snapshot (Binance's largest for /api/v3/depth). */
const SNAPSHOT_LIMIT = 5000;

interface DepthUpdate {
  e?: unknown;
  s?: unknown;
  U?: unknown;
  u?: unknown;
  b?: unknown;
  a?: unknown;
}

interface TradeEvent {
  e?: unknown;
  s?: unknown;
  t?: unknown;
  p?: unknown;
  q?: unknown;
  m?: unknown;
}

/** Per symbol: the local book, the diffs buffered before the snapshot, and the last applied u. */
class BinanceBook extends VenueBook {
  buffer: DepthUpdate[] = [];
  /** `u` of the last applied diff (or the snapshot's lastUpdateId before the first). */
  lastUpdateId = -1;
  /** The next diff is the first after a snapshot: U <= lastUpdateId+1 <= u instead of U = last+1. */
  first = true;
  /** A REST snapshot is on its way. */
  fetching = false;
}

/**
 * Binance Spot `<symbol>@depth@100ms` and `<symbol>@trade` over one combined stream (Binance names
 * the streams in the URL), kept by Binance's documented local-book procedure: buffer the diffs,
 * fetch a REST snapshot (/api/v3/depth), drop buffered diffs with u <= lastUpdateId, apply the
 * first with U <= lastUpdateId+1 <= u, then require each U to be the previous u + 1. A skipped
 * update id (a lost or reordered frame), a crossed book or an unreadable diff desynchronises the
 * symbol: diffs are buffered again and a new snapshot fetched, and the result is diffed into
 * bookcast's book. The snapshot may arrive seconds after the diffs began: the buffer is what
 * makes that safe.
 */
export class BinanceAdapter implements VenueAdapter {
  private readonly books = new Map<string, BinanceBook>();

  constructor(private readonly context: FeedContext) {
    for (const symbol of context.symbols) this.books.set(symbol.venueSymbol, new BinanceBook(symbol, context.quality, publishedDepth(context)));
  }

  socketUrl(base: string): string {
    const streams = [...this.books.keys()].flatMap((s) => [`${s.toLowerCase()}@depth@100ms`, `${s.toLowerCase()}@trade`]);
    return `${base.replace(/\/+$/, '')}/stream?streams=${streams.join('/')}`;
  }

  onOpen(): void {
    for (const book of this.books.values()) this.restart(book, false);
  }

  /** Every synced book will need the snapshot of the next connection: counted as a resync. */
  onClose(): void {
    this.context.quality.connectionLost(this.books.values(), (book) => {
      book.desync();
      book.buffer = [];
    });
  }

  onFrame(text: string, receivedUs: number): void {
    let message: { stream?: unknown; data?: DepthUpdate & TradeEvent; result?: unknown };
    try {
      message = JSON.parse(text);
    } catch {
      this.context.quality.malformedFrame(`a frame is not JSON: ${text.slice(0, 80)}`);
      return;
    }
    const data = message?.data;
    const book = this.books.get(data?.s as string);
    if (book === undefined || data === undefined) {
      // Answers to requests ({"result":null,"id":1}) carry no data; anything else is unexpected.
      if (message === null || typeof message !== 'object' || !('result' in message)) this.context.quality.malformedFrame(`unexpected frame: ${text.slice(0, 80)}`);
      return;
    }
    this.context.quality.message(book.feed);
    if (data.e === 'depthUpdate') this.diff(book, data, receivedUs);
    else if (data.e === 'trade') this.trade(book, data, receivedUs);
    else this.context.quality.problem(book.feed, FQ_MALFORMED, `unknown event type ${String(data.e)}`);
  }

  onRest(path: string, status: number, body: string, receivedUs: number): void {
    const symbol = /[?&]symbol=([^&]+)/.exec(path)?.[1];
    const book = symbol === undefined ? undefined : this.books.get(decodeURIComponent(symbol));
    if (book === undefined || !book.fetching) return;
    book.fetching = false;
    let snapshot: { lastUpdateId?: unknown; bids?: unknown; asks?: unknown } | null;
    try {
      snapshot = status === 200 ? JSON.parse(body) : null;
    } catch {
      snapshot = null;
    }
    if (snapshot === null || typeof snapshot.lastUpdateId !== 'number') {
      this.context.quality.note('FEED_SNAPSHOT_FAILED', `Binance depth snapshot for ${book.feed.venueSymbol} answered ${status}: ${body.slice(0, 80)}`);
      // Another try after the reconnect's backoff: asking again at once would hammer a venue that says no.
      this.context.link.reconnect(`no depth snapshot for ${book.feed.venueSymbol}`);
      return;
    }
    book.beginSnapshot();
    if (!this.levels(book, BID, snapshot.bids) || !this.levels(book, ASK, snapshot.asks)) {
      this.context.quality.problem(book.feed, FQ_MALFORMED, 'unreadable depth snapshot');
      return this.restart(book, true);
    }
    book.discard();
    book.lastUpdateId = snapshot.lastUpdateId;
    book.first = true;
    const buffered = book.buffer;
    book.buffer = [];
    // Snapshot in place, buffered diffs applied: only then is the result checked and published.
    for (const update of buffered) {
      if (!this.applyDiff(book, update)) return;
    }
    if (!book.uncrossed()) return this.restart(book, true);
    book.commitSnapshot(receivedUs);
  }

  private diff(book: BinanceBook, update: DepthUpdate, receivedUs: number): void {
    if (!book.synced) {
      if (book.buffer.length >= MAX_BUFFERED) {
        this.context.quality.problem(book.feed, FQ_GAPS, `${MAX_BUFFERED} diffs buffered and no snapshot yet`);
        return this.restart(book, true);
      }
      book.buffer.push(update);
      return;
    }
    if (!this.applyDiff(book, update)) return;
    if (!book.uncrossed()) return this.restart(book, true);
    book.commit(receivedUs);
  }

  /** Applies one diff by the update-id rules; false when it desynchronised the symbol. */
  private applyDiff(book: BinanceBook, update: DepthUpdate): boolean {
    const first = update.U;
    const last = update.u;
    if (typeof first !== 'number' || typeof last !== 'number' || last < first) {
      this.context.quality.problem(book.feed, FQ_MALFORMED, 'a diff without update ids');
      this.restart(book, true);
      return false;
    }
    if (last <= book.lastUpdateId) return true; // older than the book
    const expected = book.lastUpdateId + 1;
    if (book.first ? first > expected : first !== expected) {
      this.context.quality.problem(book.feed, FQ_GAPS, `expected update ${expected}, got ${first}..${last}`);
      this.restart(book, true);
      return false;
    }
    if (!this.levels(book, BID, update.b) || !this.levels(book, ASK, update.a)) {
      this.context.quality.problem(book.feed, FQ_MALFORMED, `unreadable diff ${first}..${last}`);
      this.restart(book, true);
      return false;
    }
    book.lastUpdateId = last;
    book.first = false;
    return true;
  }

  private levels(book: BinanceBook, side: number, levels: unknown): boolean {
    if (!Array.isArray(levels)) return false;
    const { priceDecimals, sizeDecimals } = book.feed.instrument;
    for (const level of levels) {
      if (!Array.isArray(level) || !book.apply(side, toUnits(level[0], priceDecimals), toUnits(level[1], sizeDecimals))) return false;
    }
    return true;
  }

  private trade(book: BinanceBook, trade: TradeEvent, receivedUs: number): void {
    const { priceDecimals, sizeDecimals } = book.feed.instrument;
    const price = toUnits(trade.p, priceDecimals);
    const size = toUnits(trade.q, sizeDecimals);
    if (!(price > 0) || !(size > 0) || typeof trade.t !== 'number' || typeof trade.m !== 'boolean') {
      this.context.quality.problem(book.feed, FQ_MALFORMED, 'unreadable trade');
      return;
    }
    if (!this.context.quality.tradeId(book.feed, book.lastTradeId, trade.t)) return;
    book.lastTradeId = trade.t;
    // m: the buyer was the maker, so the seller took liquidity.
    book.feed.orders.trade(trade.m ? ASK : BID, price, size, receivedUs);
  }

  /** Buffers diffs again and fetches a fresh snapshot; `repair` counts it as a resync. */
  private restart(book: BinanceBook, repair: boolean): void {
    const wasSynced = book.synced;
    book.desync();
    book.buffer = [];
    if (repair || wasSynced) this.context.quality.resync(book.feed);
    if (book.fetching) return; // the snapshot on its way serves: the diffs after it are buffered again
    book.fetching = true;
    this.context.link.fetch(`/api/v3/depth?symbol=${encodeURIComponent(book.feed.venueSymbol)}&limit=${SNAPSHOT_LIMIT}`);
  }
}
