import t from 'tap';
import { formatTimestampMicros } from '../../src/wire/timestamp';
import { prng } from './wire-fixtures';

/** Reference built on BigInt, which cannot drift: split exactly, let Date do the calendar. */
function reference(us: number): string {
  const big = BigInt(us);
  let seconds = big / 1_000_000n;
  let micros = big % 1_000_000n;
  if (micros < 0n) {
    micros += 1_000_000n;
    seconds -= 1n;
  }
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return iso.slice(0, 20) + micros.toString().padStart(6, '0') + 'Z';
}

t.test('known values', async (t) => {
  t.equal(formatTimestampMicros(1_795_307_222_123_456), '2026-11-22T00:27:02.123456Z');
  t.equal(formatTimestampMicros(0), '1970-01-01T00:00:00.000000Z');
  t.equal(formatTimestampMicros(1), '1970-01-01T00:00:00.000001Z');
  t.equal(formatTimestampMicros(999_999), '1970-01-01T00:00:00.999999Z');
  t.equal(formatTimestampMicros(1_000_000), '1970-01-01T00:00:01.000000Z');
  t.equal(formatTimestampMicros(-1), '1969-12-31T23:59:59.999999Z');
  t.equal(formatTimestampMicros(951_782_400_000_000), '2000-02-29T00:00:00.000000Z');
  t.equal(formatTimestampMicros(2 ** 53 - 1), '2255-06-05T23:47:34.740991Z');
});

t.test('the last microsecond of a second stays in that second, up to 2^53', async (t) => {
  // Near 2^53 a double keeps only ~2e-6 of a second's fraction: the split must not round.
  let wrong = 0;
  for (let second = 9_007_199_253; second > 9_007_199_253 - 2000; second--) {
    const us = second * 1_000_000 + 999_999;
    if (formatTimestampMicros(us) !== reference(us)) wrong++;
  }
  t.equal(wrong, 0);
});

t.test('agrees with the BigInt reference on random and sequential values', async (t) => {
  const rand = prng(3);
  let wrong = 0;
  for (let i = 0; i < 100_000; i++) {
    const us = Math.floor(rand() * 2 ** 53) - (i % 10 === 0 ? 2 ** 50 : 0);
    if (formatTimestampMicros(us) !== reference(us)) wrong++;
  }
  // Consecutive microseconds across second boundaries exercise the per-second cache.
  for (let us = 1_795_307_221_999_990; us < 1_795_307_224_000_010; us += 7) {
    if (formatTimestampMicros(us) !== reference(us)) wrong++;
  }
  t.equal(wrong, 0);
});

t.test('fractional microseconds are truncated toward the earlier one', async (t) => {
  t.equal(formatTimestampMicros(1_795_307_222_123_456.75), '2026-11-22T00:27:02.123456Z');
  t.equal(formatTimestampMicros(-0.5), '1969-12-31T23:59:59.999999Z');
});

t.test('interleaved streams (a time and a candle start) share the cache without mixing up', async (t) => {
  const rand = prng(4);
  const streams = [1_795_307_222_000_000, 1_795_305_600_000_000, 1_795_310_000_000_000];
  let wrong = 0;
  for (let i = 0; i < 30_000; i++) {
    // Two streams alternate; the third cuts in now and then; each moves forward, crossing seconds.
    const k = rand() < 0.05 ? 2 : i & 1;
    streams[k] += Math.floor(rand() * 300_000);
    if (formatTimestampMicros(streams[k]) !== reference(streams[k])) wrong++;
  }
  t.equal(wrong, 0);
});
