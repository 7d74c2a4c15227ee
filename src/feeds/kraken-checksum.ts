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
  let at = writeSide(book, ASK, 0);
  at = writeSide(book, BID, at);
  return crc32(text, 0, at) >>> 0;
}

function writeSide(book: LevelBook, side: number, from: number): number {
  let at = from;
  const levels = Math.min(KRAKEN_CHECKSUM_LEVELS, book.count(side));
  for (let i = 0; i < levels; i++) {
    at = writeDigits(book.priceAt(side, i), at);
    at = writeDigits(book.sizeAt(side, i), at);
  }
  return at;
}

/** Scratch for one number's digits, least significant first. */
const reversed = new Uint8Array(16);

function writeDigits(units: number, at: number): number {
  let count = 0;
  // Units reach 2^53, past int32: remainder and exact division by 10 in doubles.
  for (let v = units; v >= 1; count++) {
    const digit = v % 10;
    reversed[count] = 48 + digit;
    v = (v - digit) / 10;
  }
  for (let i = 0; i < count; i++) text[at + i] = reversed[count - 1 - i];
  return at + count;
}
