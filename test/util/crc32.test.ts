import t from 'tap';
import * as zlib from 'node:zlib';
import { CRC32_INIT, CRC32_MAX_LONG_SHIFT, CRC32_MAX_SHIFT, crc32, crc32Chunk, crc32Finish, crc32Shift, crc32ShiftLong, crc32Unshift } from '../../src/util/crc32';

const zlibCrc32 = (zlib as unknown as { crc32(data: Uint8Array): number }).crc32;

t.test('the standard check value', async (t) => {
  t.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  t.equal(crc32(new Uint8Array(0)), 0);
});

t.test('chunks of every length agree with zlib on random data', async (t) => {
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  for (let round = 0; round < 500; round++) {
    const length = Math.floor(random() * 64);
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
    const expected = zlibCrc32(bytes);
    let state = CRC32_INIT;
    for (let at = 0; at < length; ) {
      const count = Math.min(length - at, 1 + Math.floor(random() * 8));
      let low = 0;
      let high = 0;
      for (let k = 0; k < count; k++) {
        if (k < 4) low |= bytes[at + k] << (8 * k);
        else high |= bytes[at + k] << (8 * (k - 4));
      }
      state = crc32Chunk(state, low, high, count);
      at += count;
    }
    if (crc32(bytes) !== expected || crc32Finish(state) !== expected) {
      t.fail(`round ${round}: ${crc32(bytes)}, chunked ${crc32Finish(state)}, zlib ${expected}`);
      return;
    }
  }
  t.pass('500 random buffers in random chunks of 1 to 8 bytes');
});

t.test('a text can be joined from registers of its pieces', async (t) => {
  let seed = 99;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const feed = (state: number, bytes: Uint8Array) => {
    for (const byte of bytes) state = crc32Chunk(state, byte, 0, 1);
    return state;
  };
  let wrong = 0;
  for (let round = 0; round < 500; round++) {
    const a = new Uint8Array(Math.floor(random() * 40)).map(() => Math.floor(random() * 256));
    const b = new Uint8Array(Math.floor(random() * (CRC32_MAX_SHIFT + 1))).map(() => Math.floor(random() * 256));
    const whole = feed(feed(CRC32_INIT, a), b);
    const joined = crc32Shift(feed(CRC32_INIT, a), b.length) ^ feed(0, b);
    if (whole !== joined) wrong++;
  }
  t.equal(wrong, 0, 'shift(register after A, |B|) ^ register of B from 0 == register after A then B');
  t.equal(crc32Shift(0x12345678, 0), 0x12345678, 'a shift by nothing changes nothing');
});

t.test('a long shift is the same as one zero byte at a time, for every count it takes', async (t) => {
  const feedZeros = (state: number, count: number) => {
    for (let i = 0; i < count; i++) state = crc32Chunk(state, 0, 0, 1);
    return state;
  };
  let wrong = 0;
  for (const state of [CRC32_INIT, 0x12345678, 0x80000001 | 0, 1]) {
    let expected = state;
    for (let count = 0; count <= CRC32_MAX_LONG_SHIFT; count++) {
      if (crc32ShiftLong(state, count) !== expected) wrong++;
      expected = feedZeros(expected, 1);
    }
  }
  t.equal(wrong, 0, `counts 0 to ${CRC32_MAX_LONG_SHIFT} from four registers`);
});

t.test('an unshift undoes a shift, for every count it takes', async (t) => {
  let seed = 5;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) | 0;
  let wrong = 0;
  for (let round = 0; round < 200; round++) {
    const state = round < 4 ? [CRC32_INIT, 0, 1, 0x80000000 | 0][round] : random();
    for (let count = 0; count <= CRC32_MAX_SHIFT; count++) {
      if (crc32Shift(crc32Unshift(state, count), count) !== state || crc32Unshift(crc32Shift(state, count), count) !== state) wrong++;
    }
  }
  t.equal(wrong, 0, `200 registers, counts 0 to ${CRC32_MAX_SHIFT}`);
});
