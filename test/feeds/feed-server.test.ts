import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KrakenVenue, KrakenPair } from '../helpers/kraken-venue';
import { BookcastClient } from '../../src/client';
import { ClientRecorder } from '../helpers/client-recorder';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';
import { recordCommand } from '../../src/cli/record-command';
import { readCapture, readCaptureHeader, CAPTURE_FRAME, CAPTURE_OPEN, CAPTURE_SENT } from '../../src/feeds/capture-file';

const PAIRS: KrakenPair[] = [
  { symbol: 'BTC/USD', base: 'BTC', quote: 'USD', pricePrecision: 1, qtyPrecision: 8, priceIncrement: '0.1', qtyIncrement: '0.00000001', qtyMin: '0.0001' },
  { symbol: 'ETH/USD', base: 'ETH', quote: 'USD', pricePrecision: 2, qtyPrecision: 8, priceIncrement: '0.01', qtyIncrement: '0.00000001', qtyMin: '0.001' },
];

function seed(venue: KrakenVenue): void {
  for (let i = 1; i <= 20; i++) {
    venue.update('BTC/USD', { bids: [[(67000 - i * 0.1).toFixed(1), (0.5 + i / 100).toFixed(3)]], asks: [[(67000 + i * 0.1).toFixed(1), (0.25 + i / 1000).toFixed(4)]] }, { send: false });
    venue.update('ETH/USD', { bids: [[(3400 - i * 0.01).toFixed(2), String(1 + i)]], asks: [[(3400 + i * 0.01).toFixed(2), String(2 + i)]] }, { send: false });
  }
}

/** Kraken's visible book as bookcast's REST renders it: decimals at the instrument's precision. */
function venueBook(venue: KrakenVenue, symbol: string, depth: number) {
  const p = venue.pair(symbol);
  const f = (v: string, d: number) => `${v.split('.')[0]}.${(v.split('.')[1] ?? '').padEnd(d, '0')}`;
  const side = (s: 'bids' | 'asks') => venue.top(symbol, s, depth).map(([price, qty]) => [f(price, p.pricePrecision), f(qty, p.qtyPrecision)]);
  return { bids: side('bids'), asks: side('asks') };
}

async function restBook(server: TestServer, slug: string, depth: number) {
  const { body } = await server.get(`/api/v1/market/${slug}/orderbook?depth=${depth}`);
  return { bids: body.bids, asks: body.asks };
}

async function sameOverRest(server: TestServer, venue: KrakenVenue, what: string): Promise<void> {
  for (const [symbol, slug] of [['BTC/USD', 'BTC-USD'], ['ETH/USD', 'ETH-USD']]) {
    const want = JSON.stringify(venueBook(venue, symbol, 10));
    await waitFor(`${what}: ${symbol} over REST equals Kraken's`, async () => JSON.stringify(await restBook(server, slug, 50)) === want);
  }
}

/** Moves both markets: inserts, size changes and removals inside and beyond the depth. */
function move(venue: KrakenVenue, round: number): void {
  venue.update('BTC/USD', { bids: [[(67000 - (1 + (round % 12)) * 0.1).toFixed(1), round % 3 === 0 ? '0' : `${1 + round}.5`]] });
  venue.update('ETH/USD', { asks: [[(3400 + (1 + (round % 14)) * 0.01).toFixed(2), round % 4 === 0 ? '0' : `${round}.25`]] });
  venue.trade('BTC/USD', round % 2 === 0 ? 'buy' : 'sell', '67000.1', '0.01');
}

t.test('a bookcast server on --source feed:kraken serves Kraken\'s book over REST and WebSocket, through faults and a reconnect', async (t) => {
  const venue = await KrakenVenue.start(PAIRS);
  seed(venue);
  const server = await startTestServer(['--source', 'feed:kraken', '--feed-url', venue.url, '--feed-symbols', 'BTC/USD,ETH/USD', '--feed-depth', '10', '--workers', '1']);
  const client = new BookcastClient({ url: server.url, reconnect: false });
  const recorder = new ClientRecorder(client, (s) => server.symbols.get(s)!.size_decimals);
  t.teardown(async () => {
    client.close();
    await server.server.stop();
    await venue.close();
  });
  t.same([...server.symbols.keys()], ['BTC/USD', 'ETH/USD'], 'the instruments are the feed\'s symbols');
  t.equal(server.symbols.get('BTC/USD')!.price_decimals, 1, 'tick from Kraken\'s reference data');
  t.equal(server.symbols.get('BTC/USD')!.size_decimals, 8, 'lot from Kraken\'s reference data');
  await client.connect();
  client.subscribe({ channels: ['l2'], symbols: ['BTC/USD', 'ETH/USD'], depth: 10 });
  await sameOverRest(server, venue, 'the first snapshot');
  for (let round = 0; round < 20; round++) move(venue, round);
  await sameOverRest(server, venue, 'after 40 updates');
  venue.update('BTC/USD', { bids: [['66999.9', '3.25']] }, { checksum: 1 });
  await sameOverRest(server, venue, 'after a bad checksum');
  venue.dropAll();
  venue.update('ETH/USD', { bids: [['3399.99', '0']] }, { send: false });
  await sameOverRest(server, venue, 'after a reconnect');
  await waitFor('the WebSocket client has both books at Kraken\'s state', () => {
    const btc = client.book('BTC/USD');
    const eth = client.book('ETH/USD');
    return btc !== undefined && eth !== undefined && JSON.stringify(btc.top(10).bids) === JSON.stringify(venueBook(venue, 'BTC/USD', 10).bids) && JSON.stringify(eth.top(10).bids) === JSON.stringify(venueBook(venue, 'ETH/USD', 10).bids);
  });
  t.same(recorder.resyncs, [], 'every bookcast sequence and checksum held for the WebSocket client throughout');
  const health = (await server.get('/api/v1/health')).body;
  t.equal(health.feed.venue, 'kraken');
  t.equal(health.feed.connected, true);
  t.equal(health.feed.connects, 2, 'one reconnect');
  t.equal(health.feed.symbols['BTC/USD'].checksum_mismatches, 1, 'the bad checksum is counted for its symbol');
  t.equal(health.feed.symbols['BTC/USD'].resyncs, 2, 'repaired once for the checksum, once for the reconnect');
  t.equal(health.feed.symbols['ETH/USD'].checksum_mismatches, 0);
  const metrics = await (await fetch(`${server.http}/metrics`)).text();
  t.match(metrics, /^bookcast_input_checksum_failures_total\{symbol="BTC\/USD"\} 1$/m, '/metrics counts the bad checksum for its symbol');
  t.match(metrics, /^bookcast_input_checksum_failures_total\{symbol="ETH\/USD"\} 0$/m);
  t.equal(health.feed.symbols['BTC/USD'].synced, true);
  const trades = (await server.get('/api/v1/market/BTC-USD/trades?limit=100')).body;
  t.ok(JSON.stringify(trades).includes('67000.1'), 'Kraken\'s trades are bookcast\'s trades');

  // Kraken's own ticker: in the health details (source thread to front through the shared words), not in bookcast's ticker.
  t.equal(health.feed.symbols['BTC/USD'].venue_ticker, null, 'no venue ticker before Kraken sends one');
  venue.ticker('BTC/USD', {
    bid: '60000.0', bid_qty: '0.500', ask: '60000.2', ask_qty: '1.25', last: '60000.1', last_qty: '0.1', volume: '4321.00000001', vwap: '61234.56789',
    low: '59000.0', high: '62000.0', change: '10', change_pct: '0.01', today: { volume: '1', vwap: '1', low: '1', high: '1', open: '1', trades: 1 },
  });
  const venueTicker = async () => (await server.get('/api/v1/health')).body.feed.symbols['BTC/USD'].venue_ticker;
  await waitFor('Kraken\'s ticker in /api/v1/health', async () => (await venueTicker()) !== null);
  const { received_at: _at, ...kept } = await venueTicker();
  t.same(kept, { bid: '60000.0', bid_qty: '0.500', ask: '60000.2', ask_qty: '1.25', last: '60000.1', volume: '4321.00000001', vwap: '61234.56789', high: '62000.0', low: '59000.0' }, 'the venue ticker as Kraken sent it');
  const own = JSON.stringify((await server.get('/api/v1/market/BTC-USD/ticker')).body);
  t.ok(own.includes('67000.1') && !own.includes('60000.0') && !own.includes('61234.56789'), `bookcast's ticker is its own book's and trades', not Kraken's: ${own}`);
});

t.test('bookcast record captures the venue\'s traffic; --source capture: plays it back to the same books', async (t) => {
  const venue = await KrakenVenue.start(PAIRS);
  seed(venue);
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-capture-'));
  const file = path.join(dir, 'kraken.capture.gz');
  t.teardown(async () => {
    await venue.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const log: string[] = [];
  const recording = recordCommand(['--source', 'feed:kraken', '--out', file, '--feed-url', venue.url, '--feed-symbols', 'BTC/USD,ETH/USD', '--feed-depth', '10'], { write: (s: string) => log.push(s) }, stopped);
  await waitFor('the recorder subscribed', () => venue.bookSubscribes.get('BTC/USD') === 1);
  for (let round = 0; round < 30; round++) move(venue, round);
  venue.update('BTC/USD', { asks: [['67000.3', '4.75']] }, { checksum: 7 });
  await waitFor('the recorder resubscribed', () => venue.bookSubscribes.get('BTC/USD') === 2);
  venue.update('ETH/USD', { bids: [['3399.98', '0.424242']] });
  const framesWith = async (marker: string) => {
    let found = false;
    for await (const record of readCapture(file)) if (record.type === CAPTURE_FRAME && record.text.includes(marker)) found = true;
    return found;
  };
  await waitFor('the last update reached the file', () => framesWith('0.424242'));
  stop();
  t.equal(await recording, 0, 'record exits 0');
  t.match(log.join(''), /FEED_CHECKSUM_MISMATCH/, 'the recorder validated and logged the bad checksum');

  const header = readCaptureHeader(file);
  t.same(header.symbols.map((s) => [s.venueSymbol, s.tickSize, s.lotSize]), [['BTC/USD', '0.1', '0.00000001'], ['ETH/USD', '0.01', '0.00000001']], 'the header keeps the resolved symbols');
  const types = new Set<number>();
  for await (const record of readCapture(file)) types.add(record.type);
  t.ok(types.has(CAPTURE_OPEN) && types.has(CAPTURE_FRAME) && types.has(CAPTURE_SENT), 'opens, frames and subscriptions are recorded');

  // The venue is gone: the capture alone rebuilds the books.
  await venue.close();
  const server = await startTestServer(['--source', `capture:${file}`, '--speed', '0', '--workers', '1']);
  t.teardown(() => server.server.stop());
  await waitFor('the capture played to its end', async () => (await server.get('/api/v1/health')).body.source.done === true);
  for (const [symbol, slug] of [['BTC/USD', 'BTC-USD'], ['ETH/USD', 'ETH-USD']]) {
    // The source is done when it has handed the last frame on: the book worker may still be applying it.
    const last = JSON.stringify(venueBook(venue, symbol, 10));
    await waitFor(`${symbol}: the book worker to apply the capture's end`, async () => JSON.stringify(await restBook(server, slug, 50)) === last).catch(() => undefined);
    t.same(await restBook(server, slug, 50), venueBook(venue, symbol, 10), `${symbol}: the replayed book is the venue's last book`);
  }
  const health = (await server.get('/api/v1/health')).body;
  t.equal(health.feed.capture, file);
  t.equal(health.feed.symbols['BTC/USD'].checksum_mismatches, 1, 'the replay meets the same bad checksum');
  t.equal(health.feed.symbols['BTC/USD'].resyncs, 1, 'and repairs it from the recorded snapshot');
});

t.test('a capture that is not one, or missing, is refused with its code', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-capture-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.rejects(startTestServer(['--source', `capture:${path.join(dir, 'missing.gz')}`]), { code: 'CAPTURE_NOT_FOUND' });
  const bogus = path.join(dir, 'bogus.gz');
  require('node:fs').writeFileSync(bogus, 'plain text, not gzip');
  await t.rejects(startTestServer(['--source', `capture:${bogus}`]), { code: 'CAPTURE_CORRUPT' });
});
