import t from 'tap';
import { BitfinexVenue, RawOrder } from '../helpers/bitfinex-venue';
import { BookClient } from '../helpers/book-client';
import { startTestServer, waitFor } from '../helpers/test-server';

const MID = 67000;

/** Bitfinex's window for a symbol as bookcast's REST renders an aggregated book (1 price, 8 size decimals). */
function venueLevels(venue: BitfinexVenue, depth: number) {
  const side = (s: 'bids' | 'asks') => {
    const levels = new Map<number, number>();
    for (const o of venue.top('tBTCUSD', s, depth)) levels.set(o.price, (levels.get(o.price) ?? 0) + Math.round(Math.abs(o.amount) * 1e8));
    const sorted = [...levels.entries()].sort((a, b) => (s === 'bids' ? b[0] - a[0] : a[0] - b[0]));
    return sorted.map(([price, units]) => [price.toFixed(1), (units / 1e8).toFixed(8)]);
  };
  return { bids: side('bids'), asks: side('asks') };
}

/** Bitfinex's window order by order, as bookcast's L3 stream names them. */
function venueOrders(venue: BitfinexVenue, depth: number): string {
  const orders = [...venue.top('tBTCUSD', 'bids', depth), ...venue.top('tBTCUSD', 'asks', depth)].map((o) => [o.id, o.amount > 0 ? 'bids' : 'asks', o.price.toFixed(1), Math.abs(o.amount).toFixed(8)]);
  return JSON.stringify(orders.sort((a, b) => (a[0] as number) - (b[0] as number)));
}

let nextId = 2_000_000_000;
function order(offset: number, amount: number): RawOrder {
  return { id: nextId++, price: Number((MID - Math.sign(amount) * offset * 0.1).toFixed(1)), amount };
}

t.test('a bookcast server on --source feed:bitfinex serves Bitfinex\'s raw book as its L3 and L2 books, through a fault and a reconnect', async (t) => {
  const depth = 25;
  const venue = await BitfinexVenue.start(['tBTCUSD']);
  for (let i = 1; i <= 40; i++) venue.set('tBTCUSD', [order(1 + (i % 9), Number((0.1 + i / 100).toFixed(8))), order(1 + (i % 7), -Number((0.2 + i / 1000).toFixed(8)))]);
  const server = await startTestServer(['--source', 'feed:bitfinex', '--feed-url', venue.url, '--feed-symbols', 'tBTCUSD@0.1/0.00000001', '--feed-depth', String(depth), '--workers', '1']);
  const client = new BookClient(server.url, 'json', server.symbols);
  t.teardown(async () => {
    client.close();
    await server.server.stop();
    await venue.close();
  });
  t.same([...server.symbols.keys()], ['BTC/USD'], 'tBTCUSD is BTC/USD');
  await client.opened();
  client.send({ type: 'subscribe', channels: ['l3', 'l2'], symbols: ['BTC/USD'], depth: 50 });
  const l3 = () => JSON.stringify([...(client.l3.get('BTC/USD')?.orders.entries() ?? [])].map(([id, o]) => [id, o.side, o.price, o.size]).sort((a, b) => (a[0] as number) - (b[0] as number)));
  const same = async (what: string) => {
    const want = JSON.stringify(venueLevels(venue, depth));
    await waitFor(`${what}: REST L2 equals Bitfinex's`, async () => {
      const { body } = await server.get('/api/v1/market/BTC-USD/orderbook?depth=100');
      return JSON.stringify({ bids: body.bids, asks: body.asks }) === want;
    });
    await waitFor(`${what}: the L3 stream holds Bitfinex's orders`, () => l3() === venueOrders(venue, depth));
  };
  await same('the snapshot');
  const books = venue.books.get('tBTCUSD')!;
  for (let round = 0; round < 40; round++) {
    const resting = [...books.values()][round % books.size];
    if (round % 4 === 0) venue.change('tBTCUSD', order(1 + (round % 11), round % 8 === 0 ? 0.5 : -0.75));
    else if (round % 4 === 1) venue.change('tBTCUSD', { ...resting, amount: resting.amount / 2 });
    else if (round % 4 === 2) venue.change('tBTCUSD', { ...resting, amount: 0 });
    else venue.change('tBTCUSD', { ...resting, price: Number((resting.price + (resting.amount > 0 ? -0.2 : 0.2)).toFixed(1)) });
    if (round % 10 === 0) venue.trade('tBTCUSD', MID + 0.1, round % 20 === 0 ? 0.01 : -0.02);
  }
  await same('after 40 changes');
  venue.change('tBTCUSD', order(2, 1.25), 'checksum');
  await same('after a bad checksum');
  venue.dropAll();
  venue.set('tBTCUSD', [order(3, -0.33)]);
  await same('after a reconnect');
  t.same(client.failures, [], 'every bookcast sequence and checksum held for the WebSocket client throughout');
  const health = (await server.get('/api/v1/health')).body;
  t.equal(health.feed.venue, 'bitfinex');
  t.equal(health.feed.symbols['BTC/USD'].checksum_mismatches, 1, 'the bad checksum is counted');
  t.equal(health.feed.symbols['BTC/USD'].synced, true);
  const trades = (await server.get('/api/v1/market/BTC-USD/trades?limit=100')).body;
  t.ok(JSON.stringify(trades).includes('67000.1'), 'Bitfinex\'s trades are bookcast\'s trades');
});
