/**
 * Exact conversion between decimal strings and integer fixed-point units.
 * Money never passes through a binary fraction: "0.1" with 8 decimals is 10000000 units.
 */

const POW10: readonly number[] = Array.from({ length: 19 }, (_, i) => 10 ** i);

/**
 * The texts of recent (units, decimals) pairs, one per slot, each pair in the slot its hash names
 * (a newer pair takes the slot over). A market's prices and sizes recur (a book's levels, round
 * lots): of the prices and sizes on the changed levels of the LOBSTER GOOG sample's L2(10) book
 * (700k levels), 99.4% and 99.7% find their text here. A hit allocates nothing, where formatting
 * makes several strings. Per thread, like the module.
 */
const TEXT_SLOTS_LOG2 = 12;
const slotUnits = new Float64Array(1 << TEXT_SLOTS_LOG2).fill(-1);
const slotDecimals = new Int32Array(1 << TEXT_SLOTS_LOG2);
const slotTexts: string[] = new Array<string>(1 << TEXT_SLOTS_LOG2).fill('');

/**
 * A 32-bit hash of an integer up to 2^53 and a small salt, for the caches that key texts by
 * numbers: multiplicative hashing of both 32-bit halves. Fixed-point prices often end in many zero
 * bits (a 0.01 tick at 8 decimals is 10^6 units), so a slot must come from the hash's top bits,
 * never from the value's low ones.
 */
export function unitsHash(units: number, salt: number): number {
  return Math.imul((units >>> 0) ^ Math.imul(((units / 4294967296) >>> 0) ^ salt, 0x85ebca6b), 0x9e3779b1);
}

/**
 * Formats `units` (an integer) with exactly `decimals` digits after the point: 12345, 2 → "123.45".
 * Never in exponent notation, and every digit exact: past 2^53 String() prints the shortest
 * digits that read back as the same double (2^53 + 8 is not "9007199254741000"), and from 1e21 it
 * switches to exponent notation ("1.0808639105689189e+21", which the point insertion below would
 * then mangle), so magnitudes past 2^53 go through BigInt, which prints the double's exact integer
 * value. That allocates, off the hot path: rendering is per message, and only for such values.
 * Units are integers; a fraction, which no caller passes, is rounded rather than mangled, and a
 * non-finite value throws (a programming error, never a client's input).
 */
export function formatUnits(units: number, decimals: number): string {
  if (units >= 0 && units <= Number.MAX_SAFE_INTEGER && Number.isInteger(units)) {
    const slot = unitsHash(units, decimals) >>> (32 - TEXT_SLOTS_LOG2);
    if (slotUnits[slot] === units && slotDecimals[slot] === decimals) return slotTexts[slot];
    const text = placePoint(false, String(units), decimals);
    slotUnits[slot] = units;
    slotDecimals[slot] = decimals;
    slotTexts[slot] = text;
    return text;
  }
  if (!Number.isFinite(units)) throw new RangeError(`cannot format ${units} units`);
  const whole = Number.isInteger(units) ? units : Math.round(units);
  const negative = whole < 0;
  const magnitude = negative ? -whole : whole;
  const digits = magnitude <= Number.MAX_SAFE_INTEGER ? String(magnitude) : BigInt(magnitude).toString();
  return placePoint(negative, digits, decimals);
}

/** formatUnits for units held as a BigInt (exact sums and quotients past 2^53). */
export function formatBigUnits(units: bigint, decimals: number): string {
  const negative = units < 0n;
  return placePoint(negative, (negative ? -units : units).toString(), decimals);
}

/**
 * formatUnits for an exact sum held as a pair (util/exact-sum.ts): `hi + rest` units. Below 2^53
 * rest is 0 and this is formatUnits; past it the digits come from BigInt, off the hot path.
 */
export function formatUnitPair(hi: number, rest: number, decimals: number): string {
  if (rest === 0) return formatUnits(hi, decimals);
  return formatBigUnits(BigInt(Math.round(hi)) + BigInt(Math.round(rest)), decimals);
}

function placePoint(negative: boolean, digits: string, decimals: number): string {
  if (decimals === 0) return (negative ? '-' : '') + digits;
  const padded = digits.length > decimals ? digits : '0'.repeat(decimals - digits.length + 1) + digits;
  const cut = padded.length - decimals;
  return (negative ? '-' : '') + padded.slice(0, cut) + '.' + padded.slice(cut);
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * Parses a decimal string into integer units with `decimals` digits of scale. Returns NaN when
 * the text is not a plain decimal, carries more significant decimals than the scale allows, or
 * does not fit exactly in a double (2^53).
 */
export function parseUnits(text: string, decimals: number): number {
  const m = DECIMAL.exec(text);
  if (m === null) return NaN;
  let frac = m[3] ?? '';
  // Trailing zeros beyond the scale are harmless ("1.50" at 1 decimal); other digits are not.
  if (frac.length > decimals) {
    if (!/^0*$/.test(frac.slice(decimals))) return NaN;
    frac = frac.slice(0, decimals);
  }
  const units = Number(m[2] + frac.padEnd(decimals, '0'));
  if (!Number.isSafeInteger(units)) return NaN;
  return m[1] === '-' ? -units : units;
}

/** 10^n for 0 <= n <= 18. */
export function pow10(n: number): number {
  return POW10[n];
}
