import { parseUnits, pow10 } from '../util/decimal';

/**
 * Venues that send prices and sizes as JSON numbers (Kraken v2) lose their decimal text to
 * JSON.parse. Quoting the named fields' numbers before parsing keeps the text as sent, so
 * conversion to units is exact decimal arithmetic, never a binary fraction (Kraken's own advice:
 * parse them with a decimal or string decoder). `fields` is a regexp alternation of key names.
 */
export function quoteNumbers(fields: string): (text: string) => string {
  const pattern = new RegExp(`"(${fields})":(-?\\d[\\d.eE+-]*)`, 'g');
  return (text) => text.replace(pattern, '"$1":"$2"');
}

/**
 * Units of 10^-decimals from a decimal string (or, from venues that quote nothing, a number).
 * NaN when the value is negative, not a number, finer than `decimals` or past 2^53 units.
 * Exponent notation (1e-05) goes through a double: exact for values a double holds to the
 * instrument's decimals, which the units range (2^53) guarantees for what survives the check.
 */
export function toUnits(value: unknown, decimals: number): number {
  let units = NaN;
  if (typeof value === 'string') {
    units = parseUnits(value, decimals);
    if (Number.isNaN(units) && /^[\d.]+[eE][+-]?\d+$/.test(value)) units = exponentUnits(Number(value), decimals);
  } else if (typeof value === 'number') units = exponentUnits(value, decimals);
  return units >= 0 ? units : NaN;
}

function exponentUnits(value: number, decimals: number): number {
  const scaled = value * pow10(decimals);
  const units = Math.round(scaled);
  return Number.isSafeInteger(units) && Math.abs(scaled - units) < 1e-6 * Math.max(1, units) ? units : NaN;
}
