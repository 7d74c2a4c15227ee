import { CHECKSUM_DEPTH } from '../model/depths';
import { CRC32_INIT, crc32Chunk, crc32Finish, crc32Shift, crc32ShiftLong } from '../util/crc32';

/**
 * Kraken WebSocket v2 `book` checksum (docs.kraken.com, "Book checksum (WebSocket v2)"):
 * the ten best asks from low to high, then the ten best bids from high to low; for each level
 * its price then its quantity, written at the pair's fixed precision with the '.' removed and
 * leading zeros stripped, all concatenated; the CRC-32 of that string as an unsigned integer.
 *
 * Our prices and sizes are already integers in units of that fixed precision, so each field's
 * text is exactly the decimal digits of the integer: the CRC is fed those digits directly, in
 * chunks of up to eight, and no string is ever built.
 *
 * A book changes a level or two per event but checksums twenty, so it caches at three grains
 * (CRC linearity, see crc32.ts): each level's price register (fed from 0; a level's price never
 * changes, so its digits are fed once), each level's register (price register, then the size's
 * digits, redone when the size changed), and each side's register over its top ten with its
 * registers over the best 1 to 10 levels (prefixes joined best first from 0). A size change that
 * keeps the level's text as long updates the side's register in place (the register is linear
 * in the level's part: one long shift, no join); any other change at position p redoes the
 * prefixes past p only (order-book.ts, checksumSide). The book's checksum joins the two sides in
 * one lookup and two shifts:
 *
 *   prefix[0] = 0; for position p, best first: prefix[p + 1] = checksumJoin(prefix[p], crc, length);
 *   side ^= crc32ShiftLong(oldCrc ^ newCrc, length of the text after the level);
 *   checksum = checksumOfSides(askCrc, askLength, bidCrc, bidLength);
 */

export const CHECKSUM_INIT = CRC32_INIT;
export const checksumFinish = crc32Finish;

// The four ASCII digits of 0..9999, zero-padded, packed first digit lowest (as crc32Chunk reads).
const DIGITS4 = new Int32Array(10000);
for (let n = 0; n < 10000; n++) {
  const d0 = Math.floor(n / 1000);
  const d1 = Math.floor(n / 100) % 10;
  const d2 = Math.floor(n / 10) % 10;
  const d3 = n % 10;
  DIGITS4[n] = (48 + d0) | ((48 + d1) << 8) | ((48 + d2) << 16) | ((48 + d3) << 24);
}

function digitCount(value: number): number {
  return value >= 1000 ? 4 : value >= 100 ? 3 : value >= 10 ? 2 : 1;
}

/** The digits of an integer 0 <= value < 10^8 without leading zeros, as one chunk. */
function crcUpTo8(state: number, value: number): number {
  if (value < 10000) {
    if (value === 0) return state;
    const digits = digitCount(value);
    return crc32Chunk(state, DIGITS4[value] >>> ((4 - digits) << 3), 0, digits);
  }
  const lead = (value / 10000) | 0;
  const tail = DIGITS4[value - lead * 10000];
  const digits = digitCount(lead);
  if (digits === 4) return crc32Chunk(state, DIGITS4[lead], tail, 8);
  // The lead's digits, then the tail's four straddling the two words.
  const shift = digits << 3;
  return crc32Chunk(state, (DIGITS4[lead] >>> (32 - shift)) | (tail << shift), tail >>> (32 - shift), 4 + digits);
}

/**
 * Feeds the decimal digits of an integer 0 <= units < 2^53, without leading zeros; 0 feeds
 * nothing, as a stripped "0.00" would.
 */
export function crcUnits(state: number, units: number): number {
  if (units < 1e8) return crcUpTo8(state, units | 0);
  // A multiply instead of a divide. The floor is exact for every integer below 2^53: the
  // rounded product is monotonic in `units`, and it is right at both ends of every block of
  // 10^8 (checked exhaustively in test/engine/book-checksum.test.ts).
  const high = Math.floor(units * 1e-8);
  const low = (units - high * 1e8) | 0;
  const middle = (low / 10000) | 0;
  state = crcUpTo8(state, high | 0);
  return crc32Chunk(state, DIGITS4[middle], DIGITS4[low - middle * 10000], 8);
}

/** Decimal digits of an integer 0 <= units < 2^53, none for 0. */
export function decimalLength(units: number): number {
  let length = 0;
  for (let power = 1; units >= power; power *= 10) length++;
  return length;
}

/**
 * Appends a level's text to a running register, given the register that text leaves when fed
 * from 0 (crcUnits(crcUnits(0, price), size)) and its length (decimalLength of both fields: at
 * most 32, within crc32Shift's reach).
 */
export function checksumJoin(state: number, crc: number, length: number): number {
  return crc32Shift(state, length) ^ crc;
}

/** A side's text: at most ten levels of at most 32 digits (within crc32ShiftLong's reach). */
const MAX_SIDE_TEXT = CHECKSUM_DEPTH * 32;

// INIT_AFTER[n]: INIT after n zero bytes, for n up to both sides' text.
const INIT_AFTER = new Int32Array(2 * MAX_SIDE_TEXT + 1);
INIT_AFTER[0] = CRC32_INIT;
for (let n = 1; n < INIT_AFTER.length; n++) INIT_AFTER[n] = crc32Shift(INIT_AFTER[n - 1], 1);

/**
 * The checksum of the asks' text then the bids' text, given each side's register fed from 0 and
 * its length in bytes: INIT shifted over the asks, their register added, that shifted over the
 * bids, theirs added. The shift is linear, so INIT's part is one lookup (shifted over both
 * texts at once) and the asks' register takes one long shift.
 */
export function checksumOfSides(askCrc: number, askLength: number, bidCrc: number, bidLength: number): number {
  return crc32Finish(INIT_AFTER[askLength + bidLength] ^ crc32ShiftLong(askCrc, bidLength) ^ bidCrc);
}
