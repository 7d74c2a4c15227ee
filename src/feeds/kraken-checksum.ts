import { ASK, BID } from '../model/book-types';
import { crc32 } from '../util/crc32';
import type { LevelBook } from './level-book';

/** Kraken's checksum always covers the top 10 levels, whatever the subscribed depth. */
export const KRAKEN_CHECKSUM_LEVELS = 10;

/** 10 levels × 2 sides × (price + qty digits, at most 16 each for units below 2^53). */
const text = new Uint8Array(KRAKEN_CHECKSUM_LEVELS * 2 * 32);

/**
 * Kraken's book checksum (WebSocket v1 and v2 `book` channel): CRC32 of the top 10 asks, low to
 * high, then the top 10 bids, high to low, each level its price then its quantity, each formatted
 * at the pair's precision with the point removed and leading zeros stripped. Formatted at the
 * pair's precision, "point removed, leading zeros stripped" is exactly the decimal digits of the
 * value in units of that precision, so the text is written digit by digit from the units, into
 * one preallocated buffer (no strings on the per-update path). The instrument's decimals must be
 * Kraken's price_precision and qty_precision (the reference fetch sets them so).
 */
export function krakenChecksum(book: LevelBook): number {
  let at = 0;
  for (const side of [ASK, BID]) {
    const levels = Math.min(KRAKEN_CHECKSUM_LEVELS, book.count(side));
    for (let i = 0; i < levels; i++) {
      at = writeDigits(book.priceAt(side, i), at);
      at = writeDigits(book.sizeAt(side, i), at);
    }
  }
  return crc32(text, 0, at) >>> 0;
}

function writeDigits(units: number, at: number): number {
  if (units <= 0) return at;
  let digits = 0;
  for (let v = units; v >= 1; v = Math.floor(v / 10)) digits++;
  let v = units;
  for (let i = at + digits - 1; i >= at; i--) {
    text[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return at + digits;
}
