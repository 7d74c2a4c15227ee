import { endianness } from 'node:os';
import { CRC32_INIT, crc32Chunk, crc32Finish } from '../util/crc32';
import { EVENT_BYTES, EVENT_WORDS } from '../model/events';
import { JOURNAL_UNSUPPORTED, JournalError } from './journal-error';

/**
 * The input journal on disk: a directory of segment files, each a run of fixed-size records.
 *
 *   <dir>/journal-00000000000000000001.log     segment: named by the journal sequence of its
 *   <dir>/journal-00000000000000838861.log     first record (20 digits), at most segmentBytes
 *   <dir>/journal.lock                         pid of the writer that holds the directory
 *
 *   record, little-endian, 80 bytes:
 *
 *   0        4        8                16                                                  80
 *   +--------+--------+----------------+---------------------------------------------------+
 *   | length | crc32  | sequence       | input event: 8 x float64 (src/engine/events.ts)    |
 *   |  u32   |  u32   |  float64       | kind symbol side orderId price size newOrderId ts  |
 *   +--------+--------+----------------+---------------------------------------------------+
 *                     |<----------- payload: `length` bytes (72), covered by crc32 -------->|
 *
 * The sequence is global to the journal, starts at 1 and grows by exactly 1 per record, across
 * segments; it is what sources are told is durable. A segment holds whole records only, so every
 * record, and every float64 in it, sits at a multiple of 8 from the start of its file: readers
 * and the writer move them with Float64Array views and no per-field decoding. That is also why
 * the format is little-endian: the views use the host's byte order, and this module refuses to
 * load on a big-endian host rather than write files no other machine could read.
 *
 * Today the only record is the input event, so a length other than 72 means damage. The length
 * stays in the format so other record kinds can be added without a new file layout.
 */

if (endianness() !== 'LE') throw new JournalError(JOURNAL_UNSUPPORTED, 'the journal format needs a little-endian host');

export const HEADER_BYTES = 8;
export const PAYLOAD_BYTES = 8 + EVENT_BYTES;
export const RECORD_BYTES = HEADER_BYTES + PAYLOAD_BYTES;
export const RECORD_WORDS = RECORD_BYTES / 8;
/** Word (float64) offsets inside a record. */
export const R_SEQUENCE = 1;
export const R_EVENT = 2;
export const R_TIMESTAMP = R_EVENT + EVENT_WORDS - 1;

/**
 * CRC-32 of the payload of the record starting at float64 word `recordWord` of the views' buffer,
 * fed eight bytes at a time (the int32 pairs of each float64, low half first, which on a
 * little-endian host are the bytes in file order): nine slicing-by-8 steps instead of 72
 * byte-at-a-time ones. Equal to crc32(bytes, start + 8, start + 80).
 */
export function payloadCrc(i32: Int32Array, recordWord: number): number {
  let state = CRC32_INIT;
  const end = (recordWord + RECORD_WORDS) * 2;
  for (let i = (recordWord + R_SEQUENCE) * 2; i < end; i += 2) state = crc32Chunk(state, i32[i], i32[i + 1], 8);
  return crc32Finish(state);
}

/** Whether the record at `recordWord` has the event length and a CRC that matches its payload. */
export function recordIntact(i32: Int32Array, recordWord: number): boolean {
  const i = recordWord * 2;
  return i32[i] === PAYLOAD_BYTES && i32[i + 1] >>> 0 === payloadCrc(i32, recordWord);
}
