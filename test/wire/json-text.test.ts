import t from 'tap';
import { appendLevel, appendRaw, startText, takeText } from '../../src/wire/json-text';

/** The level's text computed independently: BigInt digits, the point placed by hand. */
function decimal(units: number, decimals: number): string {
  const digits = BigInt(units).toString().padStart(decimals + 1, '0');
  const cut = digits.length - decimals;
  return digits.slice(0, cut) + (decimals > 0 ? '.' + digits.slice(cut) : '');
}

type Level = [price: number, size: number, priceDecimals: number, sizeDecimals: number];

function listText(levels: readonly Level[]): string {
  startText();
  appendRaw('[');
  levels.forEach(([price, size, p, s], i) => appendLevel(price, size, p, s, i === 0));
  appendRaw(']');
  return takeText();
}

function wantText(levels: readonly Level[]): string {
  return '[' + levels.map(([price, size, p, s]) => `["${decimal(price, p)}","${decimal(size, s)}"]`).join(',') + ']';
}

t.test('a level that recurs, or shares a slot with another, always gets its own text', async (t) => {
  // More levels than the cache has slots, each seen many times in a shuffled order, the same
  // numbers at other scales and with price and size swapped: whatever a slot last held, the text
  // is the level's own.
  const levels: Level[] = [];
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
    // Lists of 1 to 20 levels, like the diffs and snapshots that carry them.
    for (let at = 0; at < levels.length; ) {
      const list = levels.slice(at, at + 1 + (at % 20));
      if (listText(list) !== wantText(list)) wrong++;
      at += list.length;
    }
  }
  t.equal(wrong, 0, `${levels.length * 5} levels, no list wrong`);
});

t.test('the first level of a list has no comma, the others one', async (t) => {
  t.equal(listText([[6_700_000, 12_345, 1, 5]]), '[["670000.0","0.12345"]]');
  t.equal(listText([[6_700_000, 12_345, 1, 5], [6_700_000, 0, 1, 5]]), '[["670000.0","0.12345"],["670000.0","0.00000"]]', 'a removed level: size 0');
  t.equal(listText([]), '[]');
});

t.test('a text longer than the room it had, and a level longer than a slot, come out whole', async (t) => {
  // 5,000 levels need ~170 KB, several times the text's first room; the buffer grows mid-text.
  const many: Level[] = Array.from({ length: 5000 }, (_, i) => [123_456_789_000 + i, 1_000_000 + i, 8, 6]);
  t.equal(listText(many), wantText(many));
  // Past 2^53 the texts come from BigInt: 2^80 units at 18 decimals make a 34-byte level with its
  // size, and 2^150 with 2^60 a 73-byte one, longer than a slot: written, never kept.
  const huge: Level[] = [[2 ** 80, 5, 18, 0], [2 ** 150, 2 ** 60, 2, 0], [2 ** 150, 2 ** 60, 2, 0], [1, 1, 0, 0]];
  t.equal(listText(huge), wantText(huge));
  t.equal(listText(huge), wantText(huge), 'again, with whatever it kept');
  t.equal(listText(many.slice(0, 3)), wantText(many.slice(0, 3)), 'a short text after a long one');
  // Fifty more such levels (sizes apart, so their slots are) between two renders of the kept ones:
  // none may spill into a neighbouring slot.
  listText(many);
  const longer: Level[] = Array.from({ length: 50 }, (_, i) => [2 ** 170, 1_000_000 + i, 2, 0]);
  t.equal(listText(longer), wantText(longer));
  t.equal(listText(many), wantText(many), 'the kept levels are intact');
});

t.test('a text can be built of raw pieces and levels in any order', async (t) => {
  startText();
  // A piece long enough to be written natively, then short ones written byte by byte.
  appendRaw('{"type":"l2_update","symbol":"BTC/USD","sequence":12');
  appendRaw(',"bids":[');
  appendLevel(100, 2, 2, 0, true);
  appendRaw('],"asks":[');
  appendLevel(101, 3, 2, 0, true);
  appendLevel(102, 4, 2, 0, false);
  appendRaw(']}}');
  t.equal(takeText(), '{"type":"l2_update","symbol":"BTC/USD","sequence":12,"bids":[["1.00","2"]],"asks":[["1.01","3"],["1.02","4"]]}}');
});
