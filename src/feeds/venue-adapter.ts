import type { OrderBook } from '../engine/order-book';
import type { Instrument } from '../model/instruments';
import type { LevelOrders } from './level-orders';
import type { FeedQuality } from './feed-quality';

/**
 * What an adapter may ask of the connection to its venue. Live (feed-connection.ts) these go to
 * the venue; playing a capture (capture-player.ts) sends are dropped and REST answers come from
 * the capture, in the order they were received, so an adapter cannot tell the two apart.
 */
export interface FeedLink {
  /** A text frame to the venue's WebSocket (subscriptions). */
  send(text: string): void;
  /** A REST GET of `path` (with query) on the venue's REST endpoint; answered by onRest. */
  fetch(path: string): void;
  /** Drop the connection and open a new one after a backoff delay (the venue stopped making sense). */
  reconnect(reason: string): void;
}

/**
 * What turns a venue's book into one instrument's events and keeps the copy of the published book
 * they are diffed against: LevelOrders (L2 venues, one synthetic order per level) or RawOrders
 * (order-by-order venues, the venue's own orders).
 */
export interface FeedOrders {
  readonly published: OrderBook;
  /** Events emitted so far. */
  readonly events: number;
  /** A journal record of this instrument, at start-up: applied to `published`, not emitted. */
  restore(kind: number, side: number, orderId: number, price: number, size: number, newOrderId: number): void;
  /** The instrument's checkpoint, before the journal records after it. */
  restoreCheckpoint(words: Float64Array, maxOrderId: number): void;
  /** After restoring, before the first venue message. */
  resume(): void;
  /** A trade the venue printed; `aggressor` is the side that took liquidity. */
  trade(aggressor: number, price: number, size: number, timestamp: number): void;
}

/** One venue symbol the feed carries, and the bookcast instrument it becomes. */
export interface FeedSymbol<O extends FeedOrders = LevelOrders> {
  /** As the venue spells it (BTC/USD on Kraken, BTCUSDT on Binance, tBTCUSD on Bitfinex). */
  venueSymbol: string;
  instrument: Instrument;
  /** Emits the instrument's events (L2 levels as synthetic orders or L3 orders, trades). */
  orders: O;
}

/** Everything an adapter is built with. */
export interface FeedContext<O extends FeedOrders = LevelOrders> {
  symbols: FeedSymbol<O>[];
  link: FeedLink;
  quality: FeedQuality;
  /** Levels per side the venue is asked for (venues that take a depth), or published (Binance, Coinbase: 0 = every level). */
  depth: number;
}

/** --feed-depth as the number of levels a side bookcast publishes for venues that send every level. */
export function publishedDepth(context: FeedContext<FeedOrders>): number {
  return context.depth === 0 ? Infinity : context.depth;
}

/**
 * A venue's protocol: turns its frames into bookcast events through each symbol's LevelOrders,
 * validating as it goes. Every method is called on the source thread, one at a time; `receivedUs`
 * (µs since the epoch) is when the frame arrived, and stamps the events it makes.
 */
export interface VenueAdapter {
  /** The WebSocket URL to open, from the configured base (Binance names its streams in it). */
  socketUrl(base: string): string;
  /** The socket is open: subscribe; every book waits for a fresh snapshot. */
  onOpen(receivedUs: number): void;
  onFrame(text: string, receivedUs: number): void;
  /** The answer to link.fetch(path); `status` 0 when no answer came (network error). */
  onRest(path: string, status: number, body: string, receivedUs: number): void;
  /** The socket closed: books keep their last good state until the next snapshot. */
  onClose(): void;
}
