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

/** One venue symbol the feed carries, and the bookcast instrument it becomes. */
export interface FeedSymbol {
  /** As the venue spells it (BTC/USD on Kraken, BTCUSDT on Binance). */
  venueSymbol: string;
  instrument: Instrument;
  /** Emits the instrument's events (L2 levels as synthetic orders, trades). */
  orders: LevelOrders;
}

/** Everything an adapter is built with. */
export interface FeedContext {
  symbols: FeedSymbol[];
  link: FeedLink;
  quality: FeedQuality;
  /** Levels per side the venue is asked for (venues that take a depth). */
  depth: number;
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
