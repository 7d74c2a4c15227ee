import t from 'tap';
import { BID } from '../../src/model/book-types';
import { EV_TRADE } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, toInstrument } from '../../src/model/instruments';
import { IngestPublisher, PublisherError } from '../../scripts/ingest-publisher';
import { startTestServer, waitFor } from '../helpers/test-server';

/**
 * The repro of an unbounded sum through /ingest: 120k trades of the largest size take
 * volume_24h past 10^21 units, where String() writes exponent notation. In its own file: it
 * moves 120k events, which on a busy machine needs the whole of a file's time budget.
 */

const TOKEN = 'ingest-volume-test-token-0123';
const instruments = DEFAULT_INSTRUMENTS.map((s, i) => toInstrument(s, i));

t.test('120k trades of the largest size: volume_24h is the exact sum, a plain decimal, never exponent notation', async (t) => {
  const server = await startTestServer(['--source', 'ingest', '--publisher-token', TOKEN]);
  t.teardown(() => server.server.stop());
  const ins = instruments[0];
  const biggest = Math.floor(Number.MAX_SAFE_INTEGER / ins.lotUnits) * ins.lotUnits;
  const trades = 120_000;
  const errors: PublisherError[] = [];
  const publisher = new IngestPublisher({ url: `${server.url}/ingest`, token: TOKEN, session: 'whale', format: 'flatbuffers', symbols: instruments, window: 40_000, onError: (e) => errors.push(e) });
  publisher.continueFrom((await publisher.connect()).accepted_sequence);
  for (let n = 0; n < trades; ) {
    for (; n < trades && publisher.room() > 0; n++) {
      publisher.push({ kind: EV_TRADE, symbol: 0, side: BID, orderId: 0, newOrderId: 0, price: 1000 * ins.tickUnits, size: biggest, timestamp: 0 });
    }
    publisher.flush();
    await waitFor('room in the window', () => publisher.room() > 0 || publisher.acked === publisher.last);
  }
  await waitFor('every trade acknowledged', () => publisher.acked === publisher.last);
  await publisher.close();
  t.same(errors, [], 'nothing refused');
  let ticker: Record<string, any> = {};
  await waitFor('the books to apply every trade', async () => (ticker = (await server.get(`/api/v1/market/${ins.slug}/ticker`)).body).sequence === trades);
  const volume: string = ticker.volume_24h;
  t.match(volume, new RegExp(`^\\d{17}\\.\\d{${ins.sizeDecimals}}$`), `${volume}: digits, a point, ${ins.sizeDecimals} decimals`);
  // Past 2^53 a double cannot hold the sum; the engine keeps it as an exact pair (util/exact-sum.ts).
  const exact = BigInt(trades) * BigInt(biggest);
  t.equal(BigInt(volume.replace('.', '')), exact, 'every unit of the exact sum');
  const latest = (await server.get(`/api/v1/market-data/${ins.slug}/latest?fields=volume`)).body;
  t.equal(latest.data.volume, volume, 'the Market Data API renders the same digits');
});
