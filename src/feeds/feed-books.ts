import type { FeedSymbolSpec, FeedVenue } from '../config';
import type { EventSink } from '../model/events';
import type { Instrument } from '../model/instruments';
import { H_MAX_ORDER_ID } from '../engine/symbol-checkpoint';
import { FeedQuality } from './feed-quality';
import { LevelOrders } from './level-orders';
import { RawOrders } from './raw-orders';
import type { FeedContext, FeedLink, FeedOrders, FeedSymbol, VenueAdapter } from './venue-adapter';
import { createAdapter, isOrderVenue } from './venues';

/**
 * One feed's symbols wired to bookcast's instruments: a LevelOrders per instrument (the events it
 * emits go to `sink`) and the adapter that drives them. It is also what a journaling source
 * restores at start-up (the journal and checkpoint records of each instrument rebuild the copy of
 * the book its LevelOrders diffs against), so a venue's first snapshot after a restart changes
 * only what moved while bookcast was down.
 */
export class FeedBooks {
  readonly symbols: FeedSymbol<FeedOrders>[];
  readonly quality: FeedQuality;
  adapter!: VenueAdapter;

  constructor(
    readonly venue: FeedVenue,
    instruments: readonly Instrument[],
    specs: readonly FeedSymbolSpec[],
    sink: EventSink,
    words: Float64Array,
    log?: (line: string) => void,
  ) {
    this.quality = new FeedQuality(words, venue, log);
    this.symbols = specs.map((spec, i) => ({
      venueSymbol: spec.venueSymbol,
      instrument: instruments[i],
      orders: isOrderVenue(venue) ? new RawOrders(instruments[i], sink) : new LevelOrders(instruments[i], sink),
    }));
  }

  /** Builds the venue's adapter on `link`; call once the books are restored. */
  connect(link: FeedLink, depth: number): VenueAdapter {
    for (const symbol of this.symbols) symbol.orders.resume();
    const context: FeedContext<FeedOrders> = { symbols: this.symbols, link, quality: this.quality, depth };
    this.adapter = createAdapter(this.venue, context);
    return this.adapter;
  }

  restore(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number): void {
    this.symbols[symbol]?.orders.restore(kind, side, orderId, price, size, newOrderId);
  }

  restoreCheckpoint(symbol: number, words: Float64Array): void {
    this.symbols[symbol]?.orders.restoreCheckpoint(words, words[H_MAX_ORDER_ID]);
  }

  /** Events emitted so far, all symbols. */
  events(): number {
    let n = 0;
    for (const symbol of this.symbols) n += symbol.orders.events;
    return n;
  }
}
