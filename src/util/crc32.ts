/**
 * CRC-32 as zlib, PNG and Kraken compute it (IEEE 802.3, reflected polynomial 0xEDB88320),
 * table-driven and fed incrementally, so a caller can hash bytes it produces on the fly
 * (the digits of a number, say) without building a buffer or a string first.
 *
 *   let state = CRC32_INIT;
 *   state = crc32Byte(state, byte);   // one byte
 *   state = crc32Word(state, word);   // four bytes at once, the first in the low 8 bits
 *   state = crc32Bytes(state, word, n); // the first n of them
 *   const crc = crc32Finish(state);   // unsigned 32-bit
 *
 * crc32Word is "slicing-by-4" (Intel, Kounavis and Berry 2005): up to four independent
 * lookups per four bytes instead of a chain of dependent ones, for 4 KiB of tables.
 */

// TABLE[k * 256 + n]: the CRC of byte n followed by k zero bytes.
const TABLE = new Int32Array(1024);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}
for (let n = 0; n < 256; n++) {
  for (let k = 1; k < 4; k++) {
    const previous = TABLE[(k - 1) * 256 + n];
    TABLE[k * 256 + n] = TABLE[previous & 0xff] ^ (previous >>> 8);
  }
}

/** The running state before the first byte (all ones, as the standard pre-inversion demands). */
export const CRC32_INIT = -1;

export function crc32Byte(state: number, byte: number): number {
  return TABLE[(state ^ byte) & 0xff] ^ (state >>> 8);
}

/** Four bytes packed little-endian: byte 0 in bits 0-7, byte 3 in bits 24-31. */
export function crc32Word(state: number, word: number): number {
  const x = state ^ word;
  return TABLE[768 + (x & 0xff)] ^ TABLE[512 + ((x >>> 8) & 0xff)] ^ TABLE[256 + ((x >>> 16) & 0xff)] ^ TABLE[x >>> 24];
}

/** The first `count` (1 to 4) bytes of a word packed as for crc32Word. */
export function crc32Bytes(state: number, word: number, count: number): number {
  const x = state ^ word;
  if (count === 1) return TABLE[x & 0xff] ^ (state >>> 8);
  if (count === 2) return TABLE[256 + (x & 0xff)] ^ TABLE[(x >>> 8) & 0xff] ^ (state >>> 16);
  if (count === 3) {
    return TABLE[512 + (x & 0xff)] ^ TABLE[256 + ((x >>> 8) & 0xff)] ^ TABLE[(x >>> 16) & 0xff] ^ (state >>> 24);
  }
  return TABLE[768 + (x & 0xff)] ^ TABLE[512 + ((x >>> 8) & 0xff)] ^ TABLE[256 + ((x >>> 16) & 0xff)] ^ TABLE[x >>> 24];
}

export function crc32Finish(state: number): number {
  return (state ^ -1) >>> 0;
}

/** CRC-32 of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let state = CRC32_INIT;
  for (let i = start; i < end; i++) state = TABLE[(state ^ bytes[i]) & 0xff] ^ (state >>> 8);
  return crc32Finish(state);
}
