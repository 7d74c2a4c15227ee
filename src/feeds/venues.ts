import type { FeedVenue } from '../config';
import { BinanceAdapter } from './binance-adapter';
import { BitfinexAdapter } from './bitfinex-adapter';
import { CoinbaseAdapter } from './coinbase-adapter';
import { KrakenAdapter } from './kraken-adapter';
import { KrakenV1Adapter } from './kraken-v1-adapter';
import type { LevelOrders } from './level-orders';
import type { RawOrders } from './raw-orders';
import type { FeedContext, FeedOrders, VenueAdapter } from './venue-adapter';

/** Each venue's public endpoints, used when --feed-url / --feed-rest-url are empty. */
export const VENUE_ENDPOINTS: Readonly<Record<FeedVenue, { url: string; restUrl: string }>> = {
  kraken: { url: 'wss://ws.kraken.com/v2', restUrl: 'https://api.kraken.com' },
  binance: { url: 'wss://stream.binance.com:9443', restUrl: 'https://api.binance.com' },
  coinbase: { url: 'wss://advanced-trade-ws.coinbase.com', restUrl: 'https://api.coinbase.com' },
  'kraken-v1': { url: 'wss://ws.kraken.com', restUrl: 'https://api.kraken.com' },
  bitfinex: { url: 'wss://api-pub.bitfinex.com/ws/2', restUrl: 'https://api-pub.bitfinex.com' },
};

/** Venues whose book is order by order (RawOrders); the others publish levels (LevelOrders). */
export function isOrderVenue(venue: FeedVenue): boolean {
  return venue === 'bitfinex';
}

/** `context`'s orders are RawOrders for an order venue (isOrderVenue), LevelOrders otherwise (FeedBooks). */
export function createAdapter(venue: FeedVenue, context: FeedContext<FeedOrders>): VenueAdapter {
  if (venue === 'bitfinex') return new BitfinexAdapter(context as FeedContext<RawOrders>);
  const levels = context as FeedContext<LevelOrders>;
  if (venue === 'kraken') return new KrakenAdapter(levels);
  if (venue === 'kraken-v1') return new KrakenV1Adapter(levels);
  return venue === 'binance' ? new BinanceAdapter(levels) : new CoinbaseAdapter(levels);
}

/** The endpoints a feed uses: the configured ones, or the venue's. */
export function feedEndpoints(venue: FeedVenue, url: string, restUrl: string): { url: string; restUrl: string } {
  return { url: url || VENUE_ENDPOINTS[venue].url, restUrl: restUrl || VENUE_ENDPOINTS[venue].restUrl };
}
