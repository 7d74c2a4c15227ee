import { BID } from '../../src/model/book-types';
import { EV_TRADE } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, Instrument, toInstrument } from '../../src/model/instruments';
import { IngestPublisher, PublisherError } from '../../scripts/ingest-publisher';
import { waitFor } from '../helpers/test-server';

export const PUBLISHER_TOKEN = 'history-cache-test-token-0123';
export const MINUTE_US = 60_000_000;
export const instruments: Instrument[] = DEFAULT_INSTRUMENTS.map((s, i) => toInstrument(s, i));

/**
 * A minute boundary two days ago: trades stamped there are more than the book worker's live
 * window (1 h) from the wall clock, so their candles close only when a later trade passes them,
 * never on a wall-clock tick. The test decides exactly which candles are final.
 */
export function pastMinute(): number {
  const us = Date.now() * 1000 - 2 * 86_400_000_000;
  return us - (us % MINUTE_US);
}

/** One trade a minute on `/ingest`, each acknowledged (journaled) before `trade` resolves. */
export class MinuteTrades {
  private constructor(
    private readonly publisher: IngestPublisher,
    private readonly errors: PublisherError[],
  ) {}

  static async open(url: string, session: string): Promise<MinuteTrades> {
    const errors: PublisherError[] = [];
    const publisher = new IngestPublisher({ url: `${url}/ingest`, token: PUBLISHER_TOKEN, session, format: 'json', symbols: instruments, window: 1000, onError: (e) => errors.push(e) });
    publisher.continueFrom((await publisher.connect()).accepted_sequence);
    return new MinuteTrades(publisher, errors);
  }

  /** A trade of symbol 0 one second into minute `t0 + minute`, at price 1000 + minute ticks. */
  async trade(t0: number, minute: number): Promise<void> {
    const ins = instruments[0];
    this.publisher.push({ kind: EV_TRADE, symbol: 0, side: BID, orderId: 0, newOrderId: 0, price: (1000 + minute) * ins.tickUnits, size: ins.lotUnits, timestamp: t0 + minute * MINUTE_US + 1_000_000 });
    this.publisher.flush();
    await waitFor('the trade acknowledged', () => this.publisher.acked === this.publisher.last || this.errors.length > 0, 30_000);
    if (this.errors.length > 0) throw new Error(`the server refused a trade: ${JSON.stringify(this.errors)}`);
  }

  close(): Promise<void> {
    return this.publisher.close();
  }
}
