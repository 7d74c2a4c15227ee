import t from 'tap';
import { RowHistory } from '../../src/distribution/row-history';
import { Random } from '../../src/util/random';

/**
 * RowHistory against a plain list per key: every row ever appended, of which newest(key, limit)
 * must give the last min(limit, capacity) word indexes, newest first, each still holding what
 * was written there.
 */

/** Appends one row of `words` values to `key`, each value naming (key, serial, word). */
function write(history: RowHistory, key: number, serial: number): void {
  const at = history.append(key);
  const f = history.columns(key);
  for (let w = 0; w < history.words; w++) f[at + w] = key * 1e9 + serial * 10 + w;
}

/** The serials of the rows newest() lists, read back from the columns (-1 for a torn row). */
function serials(history: RowHistory, key: number, limit: number): number[] {
  const f = history.columns(key);
  return history.newest(key, limit).map((at) => {
    const serial = (f[at] - key * 1e9) / 10;
    for (let w = 1; w < history.words; w++) if (f[at + w] !== key * 1e9 + serial * 10 + w) return -1;
    return serial;
  });
}

const descending = (from: number, n: number) => Array.from({ length: n }, (_, k) => from - k);

t.test('empty keys list nothing', async (t) => {
  const history = new RowHistory(3, 4, 5);
  t.equal(history.words, 4);
  t.equal(history.capacity, 5);
  for (let key = 0; key < 3; key++) {
    t.same(history.newest(key, 10), []);
    t.equal(history.columns(key).length, 0, 'no memory for a key before its first row');
  }
  history.append(1);
  t.equal(history.columns(1).length, 20, 'capacity × words values once it has one');
  t.equal(history.columns(0).length, 0, 'and still none for the others');
});

t.test('append claims consecutive rows and wraps around after capacity', async (t) => {
  const history = new RowHistory(1, 3, 4);
  const claimed = Array.from({ length: 10 }, () => history.append(0));
  t.same(claimed, [0, 3, 6, 9, 0, 3, 6, 9, 0, 3]);
});

t.test('newest() is newest first, bounded by limit and capacity, across wrap-around', async (t) => {
  const history = new RowHistory(1, 3, 4);
  write(history, 0, 0);
  write(history, 0, 1);
  t.same(serials(history, 0, 10), [1, 0], 'fewer rows than capacity');
  t.same(serials(history, 0, 1), [1], 'limit 1 is the newest');
  t.same(serials(history, 0, 0), [], 'limit 0 is nothing');
  for (let serial = 2; serial < 11; serial++) write(history, 0, serial);
  t.same(serials(history, 0, 100), [10, 9, 8, 7], 'only the last capacity rows survive');
  t.same(serials(history, 0, 3), [10, 9, 8]);
  t.same(history.newest(0, 100), [6, 3, 0, 9], 'the word indexes wrap around the ring');
});

t.test('keys are independent', async (t) => {
  const history = new RowHistory(3, 2, 3);
  for (let serial = 0; serial < 5; serial++) write(history, 0, serial);
  write(history, 2, 0);
  t.same(serials(history, 0, 10), [4, 3, 2]);
  t.same(serials(history, 1, 10), [], 'an untouched key stays empty');
  t.same(serials(history, 2, 10), [0]);
  t.not(history.columns(0), history.columns(2), 'each key has its own columns');
});

t.test('random appends across keys match the plain lists', async (t) => {
  const random = new Random(7);
  for (const [keys, words, capacity] of [
    [1, 1, 1],
    [4, 3, 7],
    [9, 8, 64],
  ]) {
    const history = new RowHistory(keys, words, capacity);
    const counts = new Array(keys).fill(0);
    let bad = '';
    for (let step = 0; step < 5000 && bad === ''; step++) {
      const key = random.int(keys);
      write(history, key, counts[key]++);
      const probe = random.int(keys);
      const limit = random.int(capacity * 2 + 1);
      const want = descending(counts[probe] - 1, Math.min(limit, capacity, counts[probe]));
      const got = serials(history, probe, limit);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        bad = `step ${step} newest(${probe}, ${limit}): expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`;
      }
    }
    t.equal(bad, '', bad || `${keys} keys × ${capacity} rows of ${words} words agree`);
  }
});
