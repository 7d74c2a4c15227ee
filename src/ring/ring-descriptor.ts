/**
 * Memory layout of the single-producer single-consumer ring (after Agrona's
 * RingBufferDescriptor / OneToOneRingBuffer). One SharedArrayBuffer holds a header and then
 * the data area:
 *
 *   byte 0    +--------------------------------------------------------------+
 *             | tail     int32  producer cursor: position after the last      |
 *             |                 published record (written by the producer)   |
 *             |   ...padding to 64 bytes...                                  |
 *        64   +--------------------------------------------------------------+
 *             | head     int32  consumer cursor: position of the first record |
 *             |                 not yet released (written by the consumer)   |
 *             |   ...padding...                                              |
 *       128   +--------------------------------------------------------------+
 *             | data bell: parked int32, signal int32   consumer sleeps here  |
 *             |                 waiting for records (see doorbell.ts)        |
 *             |   ...padding...                                              |
 *       192   +--------------------------------------------------------------+
 *             | space bell: parked int32, signal int32  producer sleeps here  |
 *             |                 waiting for free space                       |
 *             |   ...padding...                                              |
 *       256   +--------------------------------------------------------------+
 *             | data area: capacity bytes, capacity a power of two           |
 *             |   record, record, ..., [padding record], free ...             |
 *             +--------------------------------------------------------------+
 *
 * Each hot word is 64 bytes from every other one, so no two of them ever share a cache line,
 * whatever the alignment of the buffer's base: the producer's stores to tail never invalidate
 * the line the producer reads head from, and the reverse.
 *
 * A record is 8-aligned and starts with an 8-byte header:
 *
 *   +0  int32 payload length in bytes (the padding is not counted)
 *   +4  int32 record type, chosen by the user; PADDING_TYPE (-1) is reserved
 *   +8  payload, then zero to seven bytes of padding up to the next multiple of 8
 *
 * Cursors are int32 positions that count bytes forever and wrap modulo 2^32; a record lives at
 * index = position & mask in the data area. The bytes in use are (tail - head) >>> 0, which is
 * exact across the wrap because they never exceed the capacity (< 2^31), and
 * free = capacity - ((tail - head) >>> 0).
 *
 * A record is never split across the end of the data area. When it does not fit before the
 * end, the producer fills the rest with one PADDING record, which the consumer skips, and puts
 * the record at index 0. Hence the largest record (header included) is capacity / 2: a record
 * of r <= capacity / 2 bytes fits into an empty ring from any index i, either before the end
 * (capacity - i >= r) or after padding (needs capacity - i + r <= capacity, i.e. i >= r, true
 * whenever capacity - i < r <= capacity / 2). A larger one could wait forever on an empty ring.
 */

export const CACHE_LINE = 64;

export const TAIL_OFFSET = 0;
export const HEAD_OFFSET = CACHE_LINE;
export const DATA_BELL_OFFSET = 2 * CACHE_LINE;
export const SPACE_BELL_OFFSET = 3 * CACHE_LINE;
export const HEADER_LENGTH = 4 * CACHE_LINE;

export const RECORD_HEADER_LENGTH = 8;
export const RECORD_ALIGNMENT = 8;
export const PADDING_TYPE = -1;

export const MIN_CAPACITY = 64;
export const MAX_CAPACITY = 2 ** 30;

/**
 * A doorbell: a parked flag and a signal counter on one cache line (both are touched only on
 * the sleep/wake path). It lives inside a ring header or in a buffer of its own.
 *
 *   +0  parked int32   1 while a thread intends to sleep on the signal
 *   +4  signal int32   bumped by every wake-up; the sleeper waits while it is unchanged
 */
export const BELL_PARKED_OFFSET = 0;
export const BELL_SIGNAL_OFFSET = 4;
export const BELL_LENGTH = CACHE_LINE;

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Bytes a record with `payloadLength` bytes of payload occupies in the data area. */
export function recordLength(payloadLength: number): number {
  return (payloadLength + RECORD_HEADER_LENGTH + RECORD_ALIGNMENT - 1) & ~(RECORD_ALIGNMENT - 1);
}

/** The largest payload a ring of `capacity` bytes accepts: capacity / 2 minus the header. */
export function maxPayloadLength(capacity: number): number {
  return capacity / 2 - RECORD_HEADER_LENGTH;
}

/** Total SharedArrayBuffer size for a ring with a data area of `capacity` bytes. */
export function ringByteLength(capacity: number): number {
  return HEADER_LENGTH + capacity;
}
