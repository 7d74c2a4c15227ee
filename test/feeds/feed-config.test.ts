import t from 'tap';
import { loadConfig, parseFeedSymbols } from '../../src/config';

t.test('--feed-symbols: names, mapping, tick/lot/min', async (t) => {
  t.same(parseFeedSymbols('BTC/USD, ETH-USD'), [
    { venueSymbol: 'BTC/USD', symbol: 'BTC/USD', tickSize: '', lotSize: '', minOrderSize: '' },
    { venueSymbol: 'ETH-USD', symbol: 'ETH/USD', tickSize: '', lotSize: '', minOrderSize: '' },
  ]);
  t.same(parseFeedSymbols('BTCUSDT=btc/usdt@0.01/0.00001/0.0001,ETHBTC'), [
    { venueSymbol: 'BTCUSDT', symbol: 'BTC/USDT', tickSize: '0.01', lotSize: '0.00001', minOrderSize: '0.0001' },
    { venueSymbol: 'ETHBTC', symbol: '', tickSize: '', lotSize: '', minOrderSize: '' },
  ], 'no name and no separator: the venue\'s reference data names it');
  t.same(parseFeedSymbols('XBT/USD=BTC/USD@0.1/0.00000001')[0].minOrderSize, '0.00000001', 'min defaults to the lot');
  for (const bad of ['=BTC/USD', 'BTCUSDT=BTCUSDT', 'BTC/USD@0.1', 'BTC/USD@0.1/x', 'BTC/USD@0/1', 'BTC/USD,BTC/USD', 'A/B=C/D,E/F=C/D']) {
    t.throws(() => parseFeedSymbols(bad), { code: 'CONFIG_INVALID' }, bad);
  }
});

t.test('--source feed: and capture: in the configuration', async (t) => {
  const config = loadConfig(['--source', 'feed:kraken', '--feed-symbols', 'BTC/USD@0.1/0.00000001', '--feed-depth', '25', '--feed-url', 'ws://127.0.0.1:9'], {});
  t.same(config.source, { kind: 'feed', venue: 'kraken', url: 'ws://127.0.0.1:9', restUrl: '', depth: 25, symbols: [{ venueSymbol: 'BTC/USD', symbol: 'BTC/USD', tickSize: '0.1', lotSize: '0.00000001', minOrderSize: '0.00000001' }] });
  t.same(config.instruments.map((i) => [i.symbol, i.base, i.quote, i.tickSize, i.lotSize]), [['BTC/USD', 'BTC', 'USD', '0.1', '0.00000001']], 'the feed\'s symbols replace --symbols');
  const env = loadConfig([], { BOOKCAST_SOURCE: 'feed:binance', BOOKCAST_FEED_SYMBOLS: 'BTCUSDT', BOOKCAST_FEED_REST_URL: 'http://127.0.0.1:9' });
  t.equal(env.source.kind === 'feed' && env.source.restUrl, 'http://127.0.0.1:9', 'environment variables');
  const capture = loadConfig(['--source', 'capture:/tmp/x.gz', '--speed', '0', '--replay-time', 'original'], {});
  t.same(capture.source, { kind: 'capture', path: '/tmp/x.gz', speed: 0, originalTime: true });
  t.same(capture.instruments, [], 'a capture\'s symbols come from its header, at start');
  for (const argv of [
    ['--source', 'feed:kucoin', '--feed-symbols', 'BTC-USDT'],
    ['--source', 'feed:bitfinex', '--feed-symbols', 'tBTCUSD@1/0.00000001', '--feed-depth', '50'],
    ['--source', 'feed:kraken-v1', '--feed-symbols', 'XBT/USD', '--feed-depth', '50'],
    ['--source', 'feed:kraken'],
    ['--source', 'feed:kraken', '--feed-symbols', 'BTC/USD', '--feed-depth', '50'],
    ['--source', 'feed:binance', '--feed-symbols', 'BTCUSDT', '--feed-url', 'ftp://x'],
    ['--source', 'feed:kraken', '--feed-symbols', 'BTC/USD', '--feed-depth', '0'],
    ['--source', 'capture:/tmp/x.gz', '--store-events', 'true'],
  ]) t.throws(() => loadConfig(argv, {}), { code: 'CONFIG_INVALID' }, argv.join(' '));
  const bitfinex = loadConfig(['--source', 'feed:bitfinex', '--feed-symbols', 'tBTCUSD@1/0.00000001', '--feed-depth', '250'], {});
  t.match(bitfinex.source, { kind: 'feed', venue: 'bitfinex', depth: 250, symbols: [{ venueSymbol: 'tBTCUSD', tickSize: '1' }] }, 'Bitfinex at its deepest raw book');
  const coinbase = loadConfig(['--source', 'feed:coinbase', '--feed-symbols', 'BTC-USD@0.01/0.00000001', '--feed-depth', '0'], {});
  t.match(coinbase.source, { kind: 'feed', venue: 'coinbase', depth: 0 }, 'Coinbase publishing every level');
});
