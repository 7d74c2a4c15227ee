import { formatBigUnits, formatUnits } from './decimal';

/**
 * a * scale / b rounded to the nearest integer, halves up, exactly: for the figures the JSON
 * derives from integer units (VWAP, percent change), where a binary fraction must not decide
 * which way a half goes. a >= 0 and b > 0 are integers (any double from 2^53 up is one), scale a
 * small positive integer.
 *
 * While a * scale + b stays within 2^53 the arithmetic is exact in doubles: the floating
 * quotient is at most one above the true floor (rounding is monotone, so it is never below),
 * and the remainder's sign shows when to step back. Beyond that (an 8-decimal price times 10^4,
 * a notional past 2^53) BigInt does it, allocating, which the callers (JSON rendering) can afford.
 */
export function roundedQuotient(a: number, scale: number, b: number): number {
  const n = a * scale;
  if (n + b <= Number.MAX_SAFE_INTEGER) {
    let q = Math.floor(n / b);
    let r = n - q * b;
    if (r < 0) {
      q -= 1;
      r += b;
    }
    return r + r >= b ? q + 1 : q;
  }
  const divisor = BigInt(b);
  return Number((BigInt(a) * BigInt(scale) * 2n + divisor) / (divisor * 2n));
}

/**
 * Percent change from `open` to `last` with 2 decimals, halves away from zero, exact (in
 * hundredths of a percent from the integer units); null without a last or an open. A change that
 * rounds to 0 is "0.00", never "-0.00".
 */
export function changePercent(last: number, open: number): string | null {
  if (last === 0 || open === 0) return null;
  const negative = last < open !== open < 0;
  const difference = Math.abs(last - open);
  const base = Math.abs(open);
  if (difference * 10_000 + base > Number.MAX_SAFE_INTEGER) {
    // A quotient past 2^53 would not fit a double exactly: stay in BigInt to the digits.
    const divisor = BigInt(base);
    const hundredths = (BigInt(difference) * 20_000n + divisor) / (divisor * 2n);
    return formatBigUnits(negative ? -hundredths : hundredths, 2);
  }
  const hundredths = roundedQuotient(difference, 10_000, base);
  return formatUnits(negative ? -hundredths : hundredths, 2);
}

/**
 * Volume-weighted average price in price units: notional (sum of price × size) over volume,
 * halves rounded up (away from zero for negative prices); null without volume. Both sums are
 * exact pairs (util/exact-sum.ts); their rests are 0 below 2^53, and past it BigInt does it.
 */
export function vwapUnits(notional: number, notionalRest: number, volume: number, volumeRest: number): number | null {
  if (volume === 0 && volumeRest === 0) return null;
  if (notionalRest === 0 && volumeRest === 0) {
    const units = roundedQuotient(Math.abs(notional), 1, volume);
    return notional < 0 ? -units : units;
  }
  const n = BigInt(notional) + BigInt(notionalRest);
  const v = BigInt(volume) + BigInt(volumeRest);
  const magnitude = Number(((n < 0n ? -n : n) * 2n + v) / (v * 2n));
  return n < 0n ? -magnitude : magnitude;
}
