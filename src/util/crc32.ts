/**
 * CRC-32 as zlib, PNG and Kraken compute it (IEEE 802.3, reflected polynomial 0xEDB88320),
 * table-driven and fed incrementally, so a caller can hash bytes it produces on the fly (the
 * digits of a number, say) without building a buffer or a string first.
 *
 *   let state = CRC32_INIT;
 *   state = crc32Chunk(state, low, high, count); // 1 to 8 bytes packed in two int32 words
 *   const crc = crc32Finish(state);              // unsigned 32-bit
 *
 * The register is linear (over XOR) in what it is fed: feeding text B to register S leaves
 * crc32Shift(S, B.length) ^ (the register B leaves when fed from 0). So the register of a
 * text can be cached per piece (from 0) and pieces joined later in one step each; the price
 * is 132 KiB of shift tables, one 4 KiB row per length, of which callers touch a few.
 *
 * crc32Chunk is "slicing-by-8" (Kounavis and Berry, Intel, 2005) cut to the chunk's length:
 * up to eight independent table lookups per chunk instead of a chain of eight dependent ones,
 * for 8 KiB of tables. Only the first four bytes mix with the running state, so the lookups
 * for bytes 4 to 7 never wait for the previous chunk.
 */

// TABLE[k * 256 + n]: the CRC register after byte n followed by k zero bytes.
const TABLE = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}
for (let k = 1; k < 8; k++) {
  for (let n = 0; n < 256; n++) {
    const previous = TABLE[(k - 1) * 256 + n];
    TABLE[k * 256 + n] = TABLE[previous & 0xff] ^ (previous >>> 8);
  }
}

/** Longest run of zero bytes crc32Shift takes in one step. */
export const CRC32_MAX_SHIFT = 32;

// SHIFT[(n * 4 + k) * 256 + v]: the register (v << 8k) becomes after n zero bytes.
const SHIFT = new Int32Array((CRC32_MAX_SHIFT + 1) * 1024);
for (let k = 0; k < 4; k++) for (let v = 0; v < 256; v++) SHIFT[k * 256 + v] = v << (8 * k);
for (let n = 1; n <= CRC32_MAX_SHIFT; n++) {
  for (let i = 0; i < 1024; i++) {
    const previous = SHIFT[(n - 1) * 1024 + i];
    SHIFT[n * 1024 + i] = TABLE[previous & 0xff] ^ (previous >>> 8);
  }
}

/** Rows of LONG: shifts by 0, 32, 64 … 480 zero bytes. */
const LONG_ROWS = 16;
/** Longest run of zero bytes crc32ShiftLong takes: a step of LONG after one of SHIFT. */
export const CRC32_MAX_LONG_SHIFT = LONG_ROWS * CRC32_MAX_SHIFT - 1;

// LONG[(q * 4 + k) * 256 + v]: the register (v << 8k) becomes after 32q zero bytes.
const LONG = new Int32Array(LONG_ROWS * 1024);
LONG.set(SHIFT.subarray(0, 1024));
for (let q = 1; q < LONG_ROWS; q++) {
  for (let i = 0; i < 1024; i++) LONG[q * 1024 + i] = crc32Shift(LONG[(q - 1) * 1024 + i], CRC32_MAX_SHIFT);
}

// UNSHIFT[k * 256 + v]: the register that becomes (v << 8k) after CRC32_MAX_SHIFT zero bytes. A
// zero byte takes register r to TABLE[r & 0xff] ^ (r >>> 8), and the top bytes of TABLE's 256
// entries differ, so the top byte names the low byte it came from and a step can be undone.
const LOW_OF_TOP = new Uint8Array(256);
for (let n = 0; n < 256; n++) LOW_OF_TOP[TABLE[n] >>> 24] = n;
const UNSHIFT = new Int32Array(1024);
for (let i = 0; i < 1024; i++) {
  let state = (i & 0xff) << (8 * (i >>> 8));
  for (let n = 0; n < CRC32_MAX_SHIFT; n++) {
    const low = LOW_OF_TOP[state >>> 24];
    state = ((state ^ TABLE[low]) << 8) | low;
  }
  UNSHIFT[i] = state;
}

/** The running state before the first byte (all ones, as the standard pre-inversion demands). */
export const CRC32_INIT = -1;

/**
 * Feeds `count` (1 to 8) bytes: byte 0 in bits 0-7 of `low` up to byte 3 in bits 24-31, then
 * bytes 4 to 7 likewise in `high`. Bits beyond `count` bytes must be zero.
 */
export function crc32Chunk(state: number, low: number, high: number, count: number): number {
  const x = state ^ low;
  const x0 = x & 0xff;
  const x1 = (x >>> 8) & 0xff;
  const x2 = (x >>> 16) & 0xff;
  const x3 = x >>> 24;
  switch (count) {
    case 1:
      return TABLE[x0] ^ (state >>> 8);
    case 2:
      return TABLE[256 + x0] ^ TABLE[x1] ^ (state >>> 16);
    case 3:
      return TABLE[512 + x0] ^ TABLE[256 + x1] ^ TABLE[x2] ^ (state >>> 24);
    case 4:
      return TABLE[768 + x0] ^ TABLE[512 + x1] ^ TABLE[256 + x2] ^ TABLE[x3];
    case 5:
      return TABLE[1024 + x0] ^ TABLE[768 + x1] ^ TABLE[512 + x2] ^ TABLE[256 + x3] ^ TABLE[high & 0xff];
    case 6:
      return (
        TABLE[1280 + x0] ^ TABLE[1024 + x1] ^ TABLE[768 + x2] ^ TABLE[512 + x3] ^
        TABLE[256 + (high & 0xff)] ^ TABLE[(high >>> 8) & 0xff]
      );
    case 7:
      return (
        TABLE[1536 + x0] ^ TABLE[1280 + x1] ^ TABLE[1024 + x2] ^ TABLE[768 + x3] ^
        TABLE[512 + (high & 0xff)] ^ TABLE[256 + ((high >>> 8) & 0xff)] ^ TABLE[(high >>> 16) & 0xff]
      );
    default:
      return (
        TABLE[1792 + x0] ^ TABLE[1536 + x1] ^ TABLE[1280 + x2] ^ TABLE[1024 + x3] ^
        TABLE[768 + (high & 0xff)] ^ TABLE[512 + ((high >>> 8) & 0xff)] ^ TABLE[256 + ((high >>> 16) & 0xff)] ^ TABLE[high >>> 24]
      );
  }
}

/** The register after `count` (0 to CRC32_MAX_SHIFT) zero bytes: four lookups, however many. */
export function crc32Shift(state: number, count: number): number {
  const row = count << 10;
  return (
    SHIFT[row + (state & 0xff)] ^ SHIFT[row + 256 + ((state >>> 8) & 0xff)] ^
    SHIFT[row + 512 + ((state >>> 16) & 0xff)] ^ SHIFT[row + 768 + (state >>> 24)]
  );
}

/** The register after `count` (0 to CRC32_MAX_LONG_SHIFT) zero bytes: eight lookups, however many. */
export function crc32ShiftLong(state: number, count: number): number {
  // CRC32_MAX_SHIFT is 32: the low five bits through SHIFT, the rest through LONG's row count / 32.
  state = crc32Shift(state, count & 31);
  const row = (count >>> 5) << 10;
  return (
    LONG[row + (state & 0xff)] ^ LONG[row + 256 + ((state >>> 8) & 0xff)] ^
    LONG[row + 512 + ((state >>> 16) & 0xff)] ^ LONG[row + 768 + (state >>> 24)]
  );
}

/**
 * The register that becomes `state` after `count` (0 to CRC32_MAX_SHIFT) zero bytes: what is left
 * of a text's register once its last `count` bytes, fed from 0, are XORed out. Back by
 * CRC32_MAX_SHIFT, then forward by the rest: eight lookups.
 */
export function crc32Unshift(state: number, count: number): number {
  state = UNSHIFT[state & 0xff] ^ UNSHIFT[256 + ((state >>> 8) & 0xff)] ^ UNSHIFT[512 + ((state >>> 16) & 0xff)] ^ UNSHIFT[768 + (state >>> 24)];
  return crc32Shift(state, CRC32_MAX_SHIFT - count);
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
