import t from 'tap';
import { EVENT_BYTES } from '../../src/model/events';
import { PAYLOAD_BYTES, RECORD_BYTES, RECORD_WORDS, payloadCrc, recordIntact } from '../../src/journal/journal-layout';
import { segmentFileName } from '../../src/journal/journal-segments';
import { crc32 } from '../../src/util/crc32';

t.test('record layout', (t) => {
  t.equal(PAYLOAD_BYTES, 8 + EVENT_BYTES);
  t.equal(RECORD_BYTES, 80);
  t.equal(RECORD_BYTES % 8, 0, 'records keep float64 alignment');
  t.equal(segmentFileName(838_861), 'journal-00000000000000838861.log');
  t.end();
});

t.test('payloadCrc is the CRC-32 of the payload bytes', (t) => {
  const buffer = new ArrayBuffer(RECORD_BYTES * 4);
  const bytes = new Uint8Array(buffer);
  const f64 = new Float64Array(buffer);
  const i32 = new Int32Array(buffer);
  let seed = 12345;
  let disagreements = 0;
  for (let round = 0; round < 200; round++) {
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[i] = seed >>> 24;
    }
    f64[RECORD_WORDS + 1] = round * 1e9 + 0.5;
    const w = RECORD_WORDS * (round % 4);
    const start = w * 8;
    if (payloadCrc(i32, w) !== crc32(bytes, start + 8, start + RECORD_BYTES)) disagreements++;
  }
  t.equal(disagreements, 0, '200 random records');
  const w = RECORD_WORDS;
  i32[w * 2] = PAYLOAD_BYTES;
  i32[w * 2 + 1] = payloadCrc(i32, w);
  t.ok(recordIntact(i32, w));
  bytes[w * 8 + 79] ^= 1;
  t.notOk(recordIntact(i32, w), 'a flipped bit');
  bytes[w * 8 + 79] ^= 1;
  i32[w * 2] = PAYLOAD_BYTES + 8;
  t.notOk(recordIntact(i32, w), 'a wrong length');
  t.end();
});
