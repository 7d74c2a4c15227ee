import t from 'tap';
import { NO_SLOT, OrderIndex } from '../../src/engine/order-index';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('an empty index finds nothing, not even id 0', async (t) => {
  const index = new OrderIndex(4);
  for (const id of [0, 1, -1, NaN, 2 ** 53 - 1]) t.equal(index.get(id), NO_SLOT, String(id));
  t.equal(index.delete(0), false);
  t.equal(index.size, 0);
});

t.test('set, overwrite, delete, clear', async (t) => {
  const index = new OrderIndex(4);
  index.set(7, 70);
  index.set(2 ** 53 - 1, 1);
  t.equal(index.get(7), 70);
  index.set(7, 71);
  t.equal(index.get(7), 71, 'overwritten');
  t.equal(index.size, 2);
  t.equal(index.get(2 ** 53 - 1), 1);
  t.equal(index.delete(7), true);
  t.equal(index.delete(7), false);
  t.equal(index.has(7), false);
  index.clear();
  t.equal(index.size, 0);
  t.equal(index.get(2 ** 53 - 1), NO_SLOT);
});

// Id patterns that defeat weak hashes: sequential, strided by powers of two (low bits constant),
// differing only in the high 32 bits, and random up to 2^53.
const PATTERNS: [string, (n: number, random: () => number) => number][] = [
  ['sequential', (n) => n + 1],
  ['stride 2^16', (n) => (n + 1) * 65536],
  ['stride 2^32', (n) => (n + 1) * 4294967296],
  ['random to 2^53', (_n, random) => 1 + Math.floor(random() * (2 ** 53 - 2))],
  ['random small', (_n, random) => 1 + Math.floor(random() * 3000)],
];

for (const [name, idOf] of PATTERNS) {
  t.test(`agrees with Map under add/delete churn: ${name} ids`, async (t) => {
    const random = mulberry32(name.length * 7919);
    const index = new OrderIndex(16); // grows several times
    const map = new Map<number, number>();
    const live: number[] = [];
    let n = 0;
    let mismatch: string | null = null;
    for (let step = 0; step < 200_000 && mismatch === null; step++) {
      const r = random();
      if (r < 0.55 || live.length === 0) {
        const id = idOf(n++, random);
        const value = Math.floor(random() * 1e6);
        if (!map.has(id)) live.push(id);
        map.set(id, value);
        index.set(id, value);
      } else if (r < 0.95) {
        const at = Math.floor(random() * live.length);
        const id = live[at];
        live[at] = live[live.length - 1];
        live.pop();
        if (index.delete(id) !== map.delete(id)) mismatch = `delete ${id} at ${step}`;
      } else {
        const id = idOf(Math.floor(random() * (n + 10)), random);
        if (index.get(id) !== (map.get(id) ?? NO_SLOT)) mismatch = `get ${id} at ${step}`;
      }
      if (step % 5000 === 0 && mismatch === null) {
        if (index.size !== map.size) mismatch = `size ${index.size} != ${map.size} at ${step}`;
        for (const [id, value] of map) if (index.get(id) !== value) mismatch = `lost ${id} at ${step}`;
      }
    }
    for (const [id, value] of map) if (mismatch === null && index.get(id) !== value) mismatch = `lost ${id} at the end`;
    t.equal(mismatch, null);
    t.equal(index.size, map.size);
  });
}
