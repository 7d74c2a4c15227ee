import { CRC32_INIT, crc32Bytes, crc32Finish, crc32Word } from '../util/crc32';
import { ASK, BID } from './book-types';

/**
 * Kraken WebSocket v2 `book` checksum (docs.kraken.com, "Book checksum (WebSocket v2)"):
 * the ten best asks from low to high, then the ten best bids from high to low; for each level
 * its price then its quantity, written at the pair's fixed precision with the '.' removed and
 * leading zeros stripped, all concatenated; the CRC-32 of that string as an unsigned integer.
 *
 * Our prices and sizes are already integers in units of that fixed precision, so each field's
 * text is exactly the decimal digits of the integer: the CRC is fed those digits directly and
 * no string is ever built.
 */

export const CHECKSUM_DEPTH = 10;

/** The part of a book the checksum reads. */
export interface LevelView {
  levelCount(side: number): number;
  levelPrice(side: number, position: number): number;
  levelSize(side: number, position: number): number;
}

// The four ASCII digits of 0..9999, zero-padded, packed for crc32Word (first digit lowest).
const DIGITS4 = new Int32Array(10000);
for (let n = 0; n < 10000; n++) {
  const d0 = Math.floor(n / 1000);
  const d1 = Math.floor(n / 100) % 10;
  const d2 = Math.floor(n / 10) % 10;
  const d3 = n % 10;
  DIGITS4[n] = (48 + d0) | ((48 + d1) << 8) | ((48 + d2) << 16) | ((48 + d3) << 24);
}

/** The digits of 0 <= value < 10^4 without leading zeros (none at all for 0). */
function crcLead4(state: number, value: number): number {
  if (value === 0) return state;
  const digits = value >= 1000 ? 4 : value >= 100 ? 3 : value >= 10 ? 2 : 1;
  return crc32Bytes(state, DIGITS4[value] >>> ((4 - digits) << 3), digits);
}

/** The digits of 0 <= value < 10^8 without leading zeros. */
function crcLead8(state: number, value: number): number {
  const high = (value / 10000) | 0;
  const low = value - high * 10000;
  if (high === 0) return crcLead4(state, low);
  return crc32Word(crcLead4(state, high), DIGITS4[low]);
}

/**
 * Feeds the decimal digits of an integer 0 <= units < 2^53, most significant first, without
 * leading zeros: 0 contributes nothing, as a stripped "0.00" would. Numbers are cut into
 * base-10^4 groups held in locals (no scratch array): all but the leading group go in as one
 * crc32Word each.
 */
function crcDigits(state: number, units: number): number {
  if (units < 1e8) return crcLead8(state, units | 0);
  // A multiply instead of a divide. The floor is exact for every integer below 2^53: the
  // rounded product is monotonic in `units`, and it is right at both ends of every block of
  // 10^8 (checked exhaustively in test/engine/book-checksum.test.ts).
  const high = Math.floor(units * 1e-8);
  const low = (units - high * 1e8) | 0;
  const middle = (low / 10000) | 0;
  state = crcLead8(state, high | 0);
  state = crc32Word(state, DIGITS4[middle]);
  return crc32Word(state, DIGITS4[low - middle * 10000]);
}

function crcSide(state: number, book: LevelView, side: number): number {
  const depth = Math.min(book.levelCount(side), CHECKSUM_DEPTH);
  for (let position = 0; position < depth; position++) {
    state = crcDigits(state, book.levelPrice(side, position));
    state = crcDigits(state, book.levelSize(side, position));
  }
  return state;
}

export function bookChecksum(book: LevelView): number {
  return crc32Finish(crcSide(crcSide(CRC32_INIT, book, ASK), book, BID));
}
