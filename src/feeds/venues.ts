import type { FeedVenue } from '../config';
import { BinanceAdapter } from './binance-adapter';
import { CoinbaseAdapter } from './coinbase-adapter';
import { KrakenAdapter } from './kraken-adapter';
import type { FeedContext, VenueAdapter } from './venue-adapter';

/** Each venue's public endpoints, used when --feed-url / --feed-rest-url are empty. */
export const VENUE_ENDPOINTS: Readonly<Record<FeedVenue, { url: string; restUrl: string }>> = {
  kraken: { url: 'wss://ws.kraken.com/v2', restUrl: 'https://api.kraken.com' },
  binance: { url: 'wss://stream.binance.com:9443', restUrl: 'https://api.binance.com' },
  coinbase: { url: 'wss://advanced-trade-ws.coinbase.com', restUrl: 'https://api.coinbase.com' },
};

export function createAdapter(venue: FeedVenue, context: FeedContext): VenueAdapter {
  if (venue === 'kraken') return new KrakenAdapter(context);
  return venue === 'binance' ? new BinanceAdapter(context) : new CoinbaseAdapter(context);
}

/** The endpoints a feed uses: the configured ones, or the venue's. */
export function feedEndpoints(venue: FeedVenue, url: string, restUrl: string): { url: string; restUrl: string } {
  return { url: url || VENUE_ENDPOINTS[venue].url, restUrl: restUrl || VENUE_ENDPOINTS[venue].restUrl };
}
