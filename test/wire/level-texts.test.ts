import t from 'tap';
import { levelJson } from '../../src/wire/level-texts';

/** The level's text computed independently: BigInt digits, the point placed by hand. */
function decimal(units: number, decimals: number): string {
  const digits = BigInt(units).toString().padStart(decimals + 1, '0');
  const cut = digits.length - decimals;
  return digits.slice(0, cut) + (decimals > 0 ? '.' + digits.slice(cut) : '');
}

t.test('a level that recurs, or shares a slot with another, always gets its own text', async (t) => {
  // More levels than the cache has slots, each seen many times in a shuffled order, the same
  // numbers at other scales and with price and size swapped: whatever a slot last held, the text
  // is the level's own.
  const levels: Array<[number, number, number, number]> = [];
  for (let i = 0; i < 5000; i++) {
    const price = i % 2 === 0 ? 1_000_000 * (5_000_000 + i) : 10_000 * (50_000 + i);
    const size = i % 3 === 0 ? 100 * (1 + (i % 40)) : Math.floor(Math.random() * 2 ** 40);
    levels.push([price, size, 8, 0], [price, size, 4, 2], [size, price, 8, 0], [price, i % 7 === 0 ? 0 : size, 1, 5]);
  }
  let wrong = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = levels.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [levels[i], levels[j]] = [levels[j], levels[i]];
    }
    levels.forEach(([price, size, p, s], i) => {
      const want = `${i % 2 === 0 ? '' : ','}["${decimal(price, p)}","${decimal(size, s)}"]`;
      if (levelJson(price, size, p, s, i % 2 === 0) !== want) wrong++;
    });
  }
  t.equal(wrong, 0, `${levels.length * 5} levels, none wrong`);
});

t.test('the first level of a list has no comma, the others one', async (t) => {
  t.equal(levelJson(6_700_000, 12_345, 1, 5, true), '["670000.0","0.12345"]');
  t.equal(levelJson(6_700_000, 12_345, 1, 5, false), ',["670000.0","0.12345"]');
  t.equal(levelJson(6_700_000, 0, 1, 5, true), '["670000.0","0.00000"]', 'a removed level: size 0');
});
