import t from 'tap';
import fc from 'fast-check';
import { formatUnits, parseUnits } from '../../src/util/decimal';

/** The exact decimal of an integer double, scaled by 10^-decimals, computed independently with BigInt. */
function exact(units: number, decimals: number): string {
  const n = BigInt(units);
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(decimals + 1, '0');
  const cut = digits.length - decimals;
  return (negative ? '-' : '') + digits.slice(0, cut) + (decimals > 0 ? '.' + digits.slice(cut) : '');
}

t.test('120k trades of 2^53 - 1 units render as a plain decimal, not 1.0808639105689189.e+21', async (t) => {
  const volume = 120_000 * Number.MAX_SAFE_INTEGER;
  t.equal(formatUnits(volume, 5), exact(volume, 5));
  t.equal(formatUnits(volume, 5), '10808639105689189.08928', 'the double nearest 120000 × (2^53 - 1), every digit');
  t.equal(formatUnits(289025526526061824, 0), '289025526526061824', 'every digit, not the shortest that reads back (String writes 289025526526061800)');
  t.equal(formatUnits(1e21, 0), '1000000000000000000000');
  t.equal(formatUnits(-1e21, 2), '-10000000000000000000.00');
  t.equal(formatUnits(Number.MAX_VALUE, 8).length, 309 + 1, 'the largest double: 309 digits and the point');
});

t.test('every integer double renders exactly, with no exponent, whatever its magnitude', async (t) => {
  const integers = fc.oneof(
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => Math.trunc(x)),
  );
  fc.assert(
    fc.property(integers, fc.integer({ min: 0, max: 18 }), (units, decimals) => {
      const text = formatUnits(units, decimals);
      return /^-?\d+(\.\d+)?$/.test(text) && text === exact(units === 0 ? 0 : units, decimals);
    }),
    { numRuns: 20_000 },
  );
  t.pass('20,000 integers of every magnitude');
  t.equal(formatUnits(-0, 2), '0.00');
});

t.test('what formatUnits writes, parseUnits reads back while it is exact', async (t) => {
  fc.assert(
    fc.property(fc.maxSafeInteger(), fc.integer({ min: 0, max: 18 }), (units, decimals) => parseUnits(formatUnits(units, decimals), decimals) === units),
    { numRuns: 10_000 },
  );
  t.pass('10,000 round trips');
  t.throws(() => formatUnits(NaN, 2), RangeError);
  t.throws(() => formatUnits(Infinity, 2), RangeError);
});

t.test('values that recur and values that share a slot always get their own text', async (t) => {
  // More pairs than the cache has slots, each seen many times in a shuffled order, with the same
  // units at several scales back to back: whatever a slot last held, the text is the pair's own.
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < 6000; i++) {
    const units = i % 3 === 0 ? 1_000_000 * (5_000_000 + i) : i % 3 === 1 ? 100 * (1 + i) : Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
    pairs.push([units, 8], [units, i % 19], [units, 0]);
  }
  let wrong = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = pairs.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
    }
    for (const [units, decimals] of pairs) if (formatUnits(units, decimals) !== exact(units, decimals)) wrong++;
  }
  t.equal(wrong, 0, `${pairs.length * 5} formats, none wrong`);
  t.equal(formatUnits(-1_000_000, 2), '-10000.00', 'a negative value is not taken for a cached positive one');
  t.equal(formatUnits(1_000_000, 2), '10000.00');
  t.equal(formatUnits(2.5, 0), '3', 'a fraction is rounded, as before');
});
