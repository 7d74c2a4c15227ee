import type { Instrument } from '../model/instruments';
import { BookcastError } from '../errors';

/** A rate read from the engine: price of 1 `base` in `quote`, as integer units with decimals. */
export interface Rate {
  units: bigint;
  decimals: number;
}

/** One hop of a conversion path: multiply by the pair's price, or divide by it when inverted. */
interface Hop {
  instrument: Instrument;
  invert: boolean;
}

const MAX_HOPS = 2;
/** Decimals kept in a converted price (a fiat or crypto amount rarely needs more). */
export const CONVERTED_DECIMALS = 8;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** Rounds a / b to the nearest integer, halves away from zero. */
function divRound(a: bigint, b: bigint): bigint {
  const negative = a < 0n !== b < 0n;
  const [x, y] = [a < 0n ? -a : a, b < 0n ? -b : b];
  const q = (x * 2n + y) / (y * 2n);
  return negative ? -q : q;
}

/**
 * Converts prices between currencies through the engine's own markets: ETH/BTC quoted in USD goes
 * through BTC/USD, USD in BTC through BTC/USD inverted, up to two hops. Arithmetic is exact
 * (BigInt) until the final rounding to CONVERTED_DECIMALS, so no binary fraction ever touches a
 * price; the rate of each hop is that pair's mid price (or last trade when one side is empty).
 */
export class CurrencyConverter {
  private readonly paths = new Map<string, Hop[] | null>();

  constructor(private readonly instruments: readonly Instrument[]) {}

  /** The currencies any configured market quotes or trades. */
  currencies(): string[] {
    return [...new Set(this.instruments.flatMap((i) => [i.base, i.quote]))].sort();
  }

  /** Hops from `from` to `to`, or throws CONVERSION_UNAVAILABLE. Paths are found once and cached. */
  path(from: string, to: string): Hop[] {
    const key = `${from}>${to}`;
    if (!this.paths.has(key)) this.paths.set(key, this.search(from, to));
    const path = this.paths.get(key);
    if (path === null || path === undefined) {
      throw new BookcastError('CONVERSION_UNAVAILABLE', `no market converts ${from} to ${to} within ${MAX_HOPS} steps`);
    }
    return path;
  }

  /**
   * Converts `units` (price units of `decimals`) along `path`, reading each hop's rate with
   * `rateOf`; returns the converted amount as units of CONVERTED_DECIMALS.
   */
  convert(units: number, decimals: number, path: readonly Hop[], rateOf: (i: Instrument) => Rate | null): bigint {
    let value = BigInt(units);
    let scale = decimals;
    for (const hop of path) {
      const rate = rateOf(hop.instrument);
      if (rate === null || rate.units <= 0n) {
        throw new BookcastError('CONVERSION_UNAVAILABLE', `${hop.instrument.symbol} has no price to convert with`);
      }
      if (hop.invert) {
        // value / rate, keeping CONVERTED_DECIMALS of precision at this step.
        value = divRound(value * pow10(rate.decimals + CONVERTED_DECIMALS), rate.units * pow10(scale));
        scale = CONVERTED_DECIMALS;
      } else {
        value = value * rate.units;
        scale += rate.decimals;
      }
    }
    return scale >= CONVERTED_DECIMALS ? divRound(value, pow10(scale - CONVERTED_DECIMALS)) : value * pow10(CONVERTED_DECIMALS - scale);
  }

  private search(from: string, to: string): Hop[] | null {
    if (from === to) return [];
    // Breadth first, so the shortest path wins; ties go to the first configured market.
    let frontier: { currency: string; hops: Hop[] }[] = [{ currency: from, hops: [] }];
    const seen = new Set([from]);
    for (let depth = 0; depth < MAX_HOPS; depth++) {
      const next: typeof frontier = [];
      for (const node of frontier) {
        for (const instrument of this.instruments) {
          let currency: string | null = null;
          let invert = false;
          if (instrument.base === node.currency) currency = instrument.quote;
          else if (instrument.quote === node.currency) {
            currency = instrument.base;
            invert = true;
          }
          if (currency === null || seen.has(currency)) continue;
          const hops = [...node.hops, { instrument, invert }];
          if (currency === to) return hops;
          seen.add(currency);
          next.push({ currency, hops });
        }
      }
      frontier = next;
    }
    return null;
  }
}

/** Formats units of CONVERTED_DECIMALS without trailing zeros beyond two decimals. */
export function formatConverted(units: bigint): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(CONVERTED_DECIMALS + 1, '0');
  const whole = digits.slice(0, -CONVERTED_DECIMALS);
  const fraction = digits.slice(-CONVERTED_DECIMALS).replace(/0+$/, '').padEnd(2, '0');
  return (negative ? '-' : '') + whole + '.' + fraction;
}
