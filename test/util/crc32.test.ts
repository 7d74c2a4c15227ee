import t from 'tap';
import * as zlib from 'node:zlib';
import { CRC32_INIT, crc32, crc32Byte, crc32Bytes, crc32Finish, crc32Word } from '../../src/util/crc32';

const zlibCrc32 = (zlib as unknown as { crc32(data: Uint8Array): number }).crc32;

t.test('the standard check value', async (t) => {
  t.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  t.equal(crc32(new Uint8Array(0)), 0);
});

t.test('byte, word and partial-word feeding agree with zlib on random data', async (t) => {
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  for (let round = 0; round < 300; round++) {
    const length = Math.floor(random() * 64);
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
    const expected = zlibCrc32(bytes);

    let bytewise = CRC32_INIT;
    for (const byte of bytes) bytewise = crc32Byte(bytewise, byte);
    // Mixed: runs of 1 to 4 bytes packed little-endian, as the checksum feeds digits.
    let mixed = CRC32_INIT;
    for (let at = 0; at < length; ) {
      const count = Math.min(length - at, 1 + Math.floor(random() * 4));
      let word = 0;
      for (let k = 0; k < count; k++) word |= bytes[at + k] << (8 * k);
      mixed = count === 4 && random() < 0.5 ? crc32Word(mixed, word) : crc32Bytes(mixed, word, count);
      at += count;
    }
    if (crc32(bytes) !== expected || crc32Finish(bytewise) !== expected || crc32Finish(mixed) !== expected) {
      t.fail(`round ${round}: ${crc32(bytes)}, bytewise ${crc32Finish(bytewise)}, mixed ${crc32Finish(mixed)}, zlib ${expected}`);
      return;
    }
  }
  t.pass('300 random buffers');
});
