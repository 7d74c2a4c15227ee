import { parseUnits, pow10 } from '../util/decimal';

/** What a client needs to know about a tradable symbol; every size and price is a decimal string. */
export interface InstrumentSpec {
  symbol: string;
  base: string;
  quote: string;
  tickSize: string;
  lotSize: string;
  minOrderSize: string;
  status: 'online' | 'halted' | 'delisted';
}

/**
 * An instrument as the engine sees it: index is its position in the configured list and names
 * its shared-memory slots and ring records; prices and sizes are integers in units of
 * 10^-priceDecimals and 10^-sizeDecimals, and must be multiples of tickUnits and lotUnits.
 */
export interface Instrument extends InstrumentSpec {
  index: number;
  priceDecimals: number;
  sizeDecimals: number;
  tickUnits: number;
  lotUnits: number;
  minSizeUnits: number;
  /** Topic-safe and URL-safe form: BTC/USD → BTC-USD. */
  slug: string;
}

function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

export function toInstrument(spec: InstrumentSpec, index: number): Instrument {
  const priceDecimals = decimalsOf(spec.tickSize);
  const sizeDecimals = Math.max(decimalsOf(spec.lotSize), decimalsOf(spec.minOrderSize));
  const tickUnits = parseUnits(spec.tickSize, priceDecimals);
  const lotUnits = parseUnits(spec.lotSize, sizeDecimals);
  const minSizeUnits = parseUnits(spec.minOrderSize, sizeDecimals);
  if (!(tickUnits > 0) || !(lotUnits > 0) || !(minSizeUnits > 0) || priceDecimals > 12 || sizeDecimals > 12) {
    throw new Error(`instrument ${spec.symbol}: tick, lot and min order size must be positive decimals`);
  }
  if (pow10(priceDecimals) * 1e6 > Number.MAX_SAFE_INTEGER && priceDecimals > 9) {
    throw new Error(`instrument ${spec.symbol}: tick size too fine for exact prices`);
  }
  // Field by field rather than {...spec, ...}: V8 gave each spread copy a map of its own (92 for
  // 100 symbols), which made every instrument.index read on the book worker's hot path a
  // megamorphic load.
  return {
    symbol: spec.symbol,
    base: spec.base,
    quote: spec.quote,
    tickSize: spec.tickSize,
    lotSize: spec.lotSize,
    minOrderSize: spec.minOrderSize,
    status: spec.status,
    index,
    priceDecimals,
    sizeDecimals,
    tickUnits,
    lotUnits,
    minSizeUnits,
    slug: spec.symbol.replace('/', '-'),
  };
}

/** The simulator's default market: a handful of crypto pairs with realistic increments. */
export const DEFAULT_INSTRUMENTS: readonly InstrumentSpec[] = [
  { symbol: 'BTC/USD', base: 'BTC', quote: 'USD', tickSize: '0.1', lotSize: '0.00001', minOrderSize: '0.0001', status: 'online' },
  { symbol: 'ETH/USD', base: 'ETH', quote: 'USD', tickSize: '0.01', lotSize: '0.0001', minOrderSize: '0.001', status: 'online' },
  { symbol: 'SOL/USD', base: 'SOL', quote: 'USD', tickSize: '0.001', lotSize: '0.01', minOrderSize: '0.1', status: 'online' },
  { symbol: 'XRP/USD', base: 'XRP', quote: 'USD', tickSize: '0.0001', lotSize: '1', minOrderSize: '10', status: 'online' },
  { symbol: 'ETH/BTC', base: 'ETH', quote: 'BTC', tickSize: '0.00001', lotSize: '0.0001', minOrderSize: '0.001', status: 'online' },
];

/** Reference mid prices for the simulator, by base currency. */
export const REFERENCE_PRICES: Readonly<Record<string, string>> = {
  'BTC/USD': '67000.0',
  'ETH/USD': '3400.00',
  'SOL/USD': '150.000',
  'XRP/USD': '0.6000',
  'ETH/BTC': '0.05100',
};
