/**
 * Sums of integers that may pass 2^53, kept exact as a pair of float64 words (hi, rest): the value
 * is hi + rest in real arithmetic, hi is the sum rounded to a double and rest (|rest| at most half
 * an ulp of hi) what the rounding left out, a double-double in the sense of Dekker and of Knuth,
 * TAOCP vol. 2, 4.2.2. For integers every rounding error is itself an integer, and while hi stays
 * below 2^104 (2·10^31 units: a trillion times a year of any market's notional) half an ulp of it
 * is at most 2^51, so every step below is exact. Updating costs a dozen float operations and
 * allocates nothing.
 */

/**
 * Adds the integer x to the pair (his[hiAt], rests[restAt]) exactly: rounds the sum, adds what the
 * rounding left out to the rest (exact: both are integers of at most 2^52), then moves the rest's
 * own excess back into hi, so that the rest stays within half an ulp of hi.
 */
export function addExact(his: Float64Array, hiAt: number, rests: Float64Array, restAt: number, x: number): void {
  const hi = his[hiAt];
  const sum = hi + x;
  const rest = rests[restAt] + roundingError(hi, x, sum);
  const total = sum + rest;
  rests[restAt] = roundingError(sum, rest, total);
  his[hiAt] = total;
}

/** The exact rounding error of sum = a + b (TwoSum): a + b === sum + error in real arithmetic. */
export function roundingError(a: number, b: number, sum: number): number {
  const bPart = sum - a;
  return a - (sum - bPart) + (b - bPart);
}

/**
 * A number in decimal text (a NUMERIC or bigint column) as a pair: hi is the nearest double, rest
 * what it leaves out of an integer past 2^53. Reads allocate a BigInt only there.
 */
export function pairOfText(text: string): { hi: number; rest: number } {
  const hi = Number(text);
  // Below 2^53 (or not an integer at all, as a NUMERIC may be) the double is the value.
  if (Math.abs(hi) <= Number.MAX_SAFE_INTEGER || !/^-?\d+$/.test(text)) return { hi, rest: 0 };
  return pairOfBig(BigInt(text));
}

/** An exact BigInt as a pair: the nearest double and what it leaves out. */
export function pairOfBig(value: bigint): { hi: number; rest: number } {
  const hi = Number(value);
  return { hi, rest: Number(value - BigInt(hi)) };
}

/** Veltkamp's splitting constant for float64: 2^27 + 1. */
const SPLIT = 134_217_729;

/**
 * The exact rounding error of product = a * b (Dekker's TwoProduct): a * b === product + error in
 * real arithmetic, for |a|, |b| below 2^996 (units are below 2^53).
 */
export function productError(a: number, b: number, product: number): number {
  let t = SPLIT * a;
  const aHigh = t - (t - a);
  const aLow = a - aHigh;
  t = SPLIT * b;
  const bHigh = t - (t - b);
  const bLow = b - bHigh;
  return aHigh * bHigh - product + aHigh * bLow + aLow * bHigh + aLow * bLow;
}
