import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { recordCommand } from '../../src/cli/record-command';
import { readCapture, CAPTURE_FRAME } from '../../src/feeds/capture-file';
import { BitfinexVenue, RawOrder } from '../helpers/bitfinex-venue';
import { BookcastClient } from '../../src/client';
import { ClientRecorder } from '../helpers/client-recorder';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';

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
  const client = new BookcastClient({ url: server.url, reconnect: false });
  const recorder = new ClientRecorder(client, (s) => server.symbols.get(s)!.size_decimals);
  t.teardown(async () => {
    client.close();
    await server.server.stop();
    await venue.close();
  });
  t.same([...server.symbols.keys()], ['BTC/USD'], 'tBTCUSD is BTC/USD');
  await client.connect();
  client.subscribe({ channels: ['l3', 'l2'], symbols: ['BTC/USD'], depth: 50 });
  const l3 = () => JSON.stringify([...(client.l3('BTC/USD')?.orders.entries() ?? [])].map(([id, o]) => [id, o.side, o.price, o.size]).sort((a, b) => (a[0] as number) - (b[0] as number)));
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
  t.same(recorder.resyncs, [], 'every bookcast sequence and checksum held for the WebSocket client throughout');
  const health = (await server.get('/api/v1/health')).body;
  t.equal(health.feed.venue, 'bitfinex');
  t.equal(health.feed.symbols['BTC/USD'].checksum_mismatches, 1, 'the bad checksum is counted');
  t.equal(health.feed.symbols['BTC/USD'].synced, true);
  const trades = (await server.get('/api/v1/market/BTC-USD/trades?limit=100')).body;
  t.ok(JSON.stringify(trades).includes('67000.1'), 'Bitfinex\'s trades are bookcast\'s trades');
});

t.test('Bitfinex: after a restart the journal rebuilds the published orders; the first snapshot changes only what moved', async (t) => {
  const venue = await BitfinexVenue.start(['tBTCUSD']);
  for (let i = 1; i <= 12; i++) venue.set('tBTCUSD', [order(i, 1.5), order(i, -2.25)]);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-bitfinex-restart-'));
  t.teardown(async () => {
    await venue.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const args = ['--source', 'feed:bitfinex', '--feed-url', venue.url, '--feed-symbols', 'tBTCUSD@0.1/0.00000001', '--feed-depth', '25', '--workers', '1', '--data-dir', dataDir];
  const book = async (server: TestServer) => {
    const { body } = await server.get('/api/v1/market/BTC-USD/orderbook?depth=100');
    return JSON.stringify({ bids: body.bids, asks: body.asks });
  };
  const first = await startTestServer(args);
  await waitFor('the first run has Bitfinex\'s book', async () => (await book(first)) === JSON.stringify(venueLevels(venue, 25)));
  await first.server.stop();
  // While bookcast is down one order goes, one is resized and one arrives.
  const [gone, resized] = [...venue.books.get('tBTCUSD')!.values()];
  venue.set('tBTCUSD', [{ ...gone, amount: 0 }, { ...resized, amount: resized.amount * 3 }, order(4, 0.75)]);
  const second = await startTestServer(args);
  t.teardown(() => second.server.stop());
  await waitFor('the second run has Bitfinex\'s book', async () => (await book(second)) === JSON.stringify(venueLevels(venue, 25)));
  const health = (await second.get('/api/v1/health')).body;
  t.ok(health.source.restored_from_journal > 0, 'the journal was replayed');
  t.equal(health.feed.symbols['BTC/USD'].events, 3, 'a delete, a replace and an add: only the difference');
});

t.test('bookcast record captures a Bitfinex feed; --source capture: plays it back to the same L3 book', async (t) => {
  const venue = await BitfinexVenue.start(['tBTCUSD']);
  for (let i = 1; i <= 12; i++) venue.set('tBTCUSD', [order(i, 1.5), order(i, -2.25)]);
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-bitfinex-capture-'));
  const file = path.join(dir, 'bitfinex.capture.gz');
  t.teardown(async () => {
    await venue.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const recording = recordCommand(['--source', 'feed:bitfinex', '--out', file, '--feed-url', venue.url, '--feed-symbols', 'tBTCUSD@0.1/0.00000001', '--feed-depth', '25'], { write: () => undefined }, stopped);
  await waitFor('the recorder subscribed', () => venue.bookSubscribes.get('tBTCUSD') === 1);
  const books = venue.books.get('tBTCUSD')!;
  for (let round = 0; round < 20; round++) {
    const resting = [...books.values()][round % books.size];
    venue.change('tBTCUSD', round % 3 === 0 ? order(1 + (round % 9), -0.5) : { ...resting, amount: round % 3 === 1 ? 0 : resting.amount / 4 });
  }
  venue.change('tBTCUSD', order(2, 0.125), 'checksum');
  await waitFor('the recorder resubscribed', () => venue.bookSubscribes.get('tBTCUSD') === 2);
  venue.change('tBTCUSD', order(3, 0.424242));
  const marker = async () => {
    for await (const record of readCapture(file)) if (record.type === CAPTURE_FRAME && record.text.includes('0.424242')) return true;
    return false;
  };
  await waitFor('the last change reached the file', marker);
  stop();
  t.equal(await recording, 0, 'record exits 0');
  await venue.close();
  const server = await startTestServer(['--source', `capture:${file}`, '--speed', '0', '--workers', '1']);
  t.teardown(() => server.server.stop());
  await waitFor('the capture played to its end', async () => (await server.get('/api/v1/health')).body.source.done === true);
  const { body } = await server.get('/api/v1/market/BTC-USD/orderbook?depth=100');
  t.same({ bids: body.bids, asks: body.asks }, venueLevels(venue, 25), 'the replayed book is the venue\'s last book');
  const client = new BookcastClient({ url: server.url, reconnect: false });
  t.teardown(() => client.close());
  await client.connect();
  client.subscribe({ channels: ['l3'], symbols: ['BTC/USD'] });
  await waitFor('the L3 snapshot', () => (client.l3('BTC/USD')?.sequence ?? -1) >= 0);
  const orders = [...client.l3('BTC/USD')!.orders.entries()].map(([id, o]) => [id, o.side, o.price, o.size]).sort((a, b) => (a[0] as number) - (b[0] as number));
  t.same(JSON.stringify(orders), venueOrders(venue, 25), 'order by order, with Bitfinex\'s ids');
  const health = (await server.get('/api/v1/health')).body;
  t.equal(health.feed.symbols['BTC/USD'].checksum_mismatches, 1, 'the replay meets the same bad checksum and repairs it from the recorded snapshot');
});
