import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KrakenVenue, KrakenPair } from '../helpers/kraken-venue';
import { startTestServer, waitFor } from '../helpers/test-server';

const PAIR: KrakenPair = { symbol: 'BTC/USD', base: 'BTC', quote: 'USD', pricePrecision: 1, qtyPrecision: 8, priceIncrement: '0.1', qtyIncrement: '0.00000001', qtyMin: '0.0001' };

t.test('after a restart the journal rebuilds the published book: the venue\'s first snapshot changes only what moved', async (t) => {
  const venue = await KrakenVenue.start([PAIR]);
  for (let i = 1; i <= 15; i++) venue.update('BTC/USD', { bids: [[(67000 - i * 0.1).toFixed(1), '1.5']], asks: [[(67000 + i * 0.1).toFixed(1), '2.25']] }, { send: false });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-feed-restart-'));
  t.teardown(async () => {
    await venue.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const args = ['--source', 'feed:kraken', '--feed-url', venue.url, '--feed-symbols', 'BTC/USD@0.1/0.00000001', '--feed-depth', '10', '--workers', '1', '--data-dir', dataDir];
  const render = () => {
    const f = (v: string, d: number) => `${v.split('.')[0]}.${(v.split('.')[1] ?? '').padEnd(d, '0')}`;
    const side = (s: 'bids' | 'asks') => venue.top('BTC/USD', s, 10).map(([p, q]) => [f(p, 1), f(q, 8)]);
    return JSON.stringify({ bids: side('bids'), asks: side('asks') });
  };
  const book = async (server: Awaited<ReturnType<typeof startTestServer>>) => {
    const { body } = await server.get('/api/v1/market/BTC-USD/orderbook?depth=50');
    return JSON.stringify({ bids: body.bids, asks: body.asks });
  };

  const first = await startTestServer(args);
  await waitFor('the first run has Kraken\'s book', async () => (await book(first)) === render());
  venue.update('BTC/USD', { bids: [['66999.9', '3']] });
  await waitFor('the update', async () => (await book(first)) === render());
  const sequence = (await first.get('/api/v1/market/BTC-USD/orderbook?depth=50')).body.sequence;
  await first.server.stop();

  // While bookcast is down, two levels change.
  venue.update('BTC/USD', { bids: [['66999.8', '0']], asks: [['67000.1', '7.5']] }, { send: false });
  const second = await startTestServer(args);
  t.teardown(() => second.server.stop());
  await waitFor('the second run has Kraken\'s book', async () => (await book(second)) === render());
  const health = (await second.get('/api/v1/health')).body;
  t.ok(health.source.restored_from_journal > 0, 'the journal was replayed');
  // A removed bid, a changed ask, and the bid that came into the top 10 in place of the removed one.
  t.equal(health.feed.symbols['BTC/USD'].events, 3, 'only the difference was emitted, not a cleared and rebuilt book');
  const now = (await second.get('/api/v1/market/BTC-USD/orderbook?depth=50')).body.sequence;
  t.equal(now, sequence + 3, 'the sequence continues from the first run');
});
