import t from 'tap';
import { toInstrument, DEFAULT_INSTRUMENTS } from '../../src/model/instruments';
import { CONVERTED_DECIMALS, CurrencyConverter, formatConverted, Rate } from '../../src/gateway/currency-converter';

const instruments = DEFAULT_INSTRUMENTS.map((s, i) => toInstrument(s, i));
const bySymbol = new Map(instruments.map((i) => [i.symbol, i]));
const converter = new CurrencyConverter(instruments);
// BTC/USD at 67000.0 (1 decimal), ETH/USD at 3400.00
const rates = new Map<string, Rate>([
  ['BTC/USD', { units: 670000n, decimals: 1 }],
  ['ETH/USD', { units: 340000n, decimals: 2 }],
  ['ETH/BTC', { units: 5100n, decimals: 5 }],
]);
const rateOf = (i: { symbol: string }) => rates.get(i.symbol) ?? null;

t.test('paths: direct, inverted, two hops, none', async (t) => {
  t.same(converter.path('USD', 'USD'), []);
  t.same(converter.path('BTC', 'USD').map((h) => [h.instrument.symbol, h.invert]), [['BTC/USD', false]]);
  t.same(converter.path('USD', 'BTC').map((h) => [h.instrument.symbol, h.invert]), [['BTC/USD', true]]);
  t.same(converter.path('SOL', 'BTC').map((h) => [h.instrument.symbol, h.invert]), [['SOL/USD', false], ['BTC/USD', true]]);
  t.throws(() => converter.path('USD', 'EUR'), { code: 'CONVERSION_UNAVAILABLE' });
  t.same(converter.currencies(), ['BTC', 'ETH', 'SOL', 'USD', 'XRP']);
});

t.test('conversion is exact until the final rounding', async (t) => {
  const ethBtc = bySymbol.get('ETH/BTC')!;
  // 0.05100 BTC at 67000.0 USD/BTC = 3417.0 USD
  const usd = converter.convert(5100, ethBtc.priceDecimals, converter.path('BTC', 'USD'), rateOf);
  t.equal(formatConverted(usd), '3417.00');
  t.equal(usd, 3417n * 10n ** BigInt(CONVERTED_DECIMALS));
  // 3400.00 USD in BTC = 0.05074626865... → 8 decimals, rounded half up
  const btc = converter.convert(340000, 2, converter.path('USD', 'BTC'), rateOf);
  t.equal(formatConverted(btc), '0.05074627');
  // 0.1 + 0.2 style values stay exact: 0.3 USD → BTC → back is within one unit of the 8th decimal
  t.equal(formatConverted(converter.convert(3, 1, [], rateOf)), '0.30');
  t.throws(() => converter.convert(1, 0, converter.path('XRP', 'BTC'), () => null), { code: 'CONVERSION_UNAVAILABLE' });
});

t.test('formatConverted keeps at least two decimals and trims the rest', async (t) => {
  t.equal(formatConverted(0n), '0.00');
  t.equal(formatConverted(123456789n), '1.23456789');
  t.equal(formatConverted(150000000n), '1.50');
  t.equal(formatConverted(-5n), '-0.00000005');
});
