import t from 'tap';
import { once } from 'node:events';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SeqlockTable } from '../../src/ring/seqlock-table';

/**
 * The free-running stress test (spsc-ring.test.ts) overlaps reads and writes only as often as the
 * scheduler happens to; this one overlaps every read with a write by construction, so it cannot
 * pass without exercising the retry. The destination is a proxy that stops the reader halfway
 * through its first copy of each read and lets a writer thread rewrite that very slot: the copy
 * then holds half the old record and half the new one, and read() must discard it and copy again.
 */
t.test('seqlock: a copy that overlapped a write is discarded and retried, every time', async (t) => {
  const slots = 4;
  const words = 16;
  const rounds = 200;
  const sab = new SharedArrayBuffer(SeqlockTable.byteLength(slots, words));
  const control = new SharedArrayBuffer(12);
  const ctl = new Int32Array(control);
  const writer = new Worker(path.join(__dirname, 'fixtures', 'seqlock-lockstep-writer.js'), { workerData: { sab, slots, words, control } });
  t.teardown(() => writer.terminate());
  await once(writer, 'message');
  const table = new SeqlockTable(sab, slots, words);

  const target = new Float64Array(words);
  let copies = 0;
  let interruptNext = false;
  const dst = new Proxy(target, {
    get: (obj, key) => (key === 'length' ? obj.length : Reflect.get(obj, key)),
    set(obj, key, value) {
      if (key === '0') copies++;
      if (key === String(words >> 1) && interruptNext) {
        interruptNext = false;
        // Halfway through the copy: the writer rewrites this slot now, and we wait for it.
        Atomics.store(ctl, 0, 1);
        Atomics.notify(ctl, 0);
        while (Atomics.load(ctl, 0) !== 2) Atomics.wait(ctl, 0, 1);
      }
      obj[Number(key)] = value as number;
      return true;
    },
  }) as Float64Array;

  let overlapped = 0;
  let torn = 0;
  let stale = 0;
  const versions = new Array<number>(slots).fill(0);
  for (let r = 0; r < rounds; r++) {
    const slot = r % slots;
    Atomics.store(ctl, 1, slot);
    Atomics.store(ctl, 0, 0);
    copies = 0;
    interruptNext = true;
    const version = table.read(slot, dst, words);
    if (copies >= 2) overlapped++;
    if (target.some((w) => w !== target[0])) torn++;
    // The record returned must be the one the overlapping write left, not the one it replaced.
    if (target[0] !== Atomics.load(ctl, 2) || version !== versions[slot] + 2) stale++;
    versions[slot] = version;
  }
  Atomics.store(ctl, 0, 3);
  Atomics.notify(ctl, 0);
  const [written] = (await once(writer, 'message')) as [number];
  t.equal(written, rounds, 'one write per read');
  t.equal(overlapped, rounds, 'every read overlapped a write and copied again');
  t.equal(torn, 0, 'no torn copy returned');
  t.equal(stale, 0, 'each read returned the record and version the write left');
});

t.test('readWord gives the word a read would copy, and never one a write in progress is replacing', async (t) => {
  const slots = 2;
  const words = 8;
  const sab = new SharedArrayBuffer(SeqlockTable.byteLength(slots, words));
  const table = new SeqlockTable(sab, slots, words);
  for (let s = 0; s < slots; s++) {
    table.beginWrite(s);
    for (let w = 0; w < words; w++) table.f64[table.base(s) + w] = 100 * s + w + 0.5;
    table.endWrite(s);
  }
  const copy = new Float64Array(words);
  for (let s = 0; s < slots; s++) {
    table.read(s, copy, words);
    for (let w = 0; w < words; w++) if (table.readWord(s, w) !== copy[w]) t.fail(`slot ${s} word ${w}`);
  }
  t.throws(() => table.readWord(0, words), { code: 'ERR_SEQLOCK_WORDS' }, 'a word past the slot');

  // A writer thread opens a write on slot 1 and only then, after a pause, replaces word 3: a read
  // made while the write is open must wait for it, whenever the write lands.
  const control = new Int32Array(new SharedArrayBuffer(4));
  const writer = new Worker(
    `const { workerData } = require('node:worker_threads');
     const { SeqlockTable } = require(workerData.module);
     const table = new SeqlockTable(workerData.sab, ${slots}, ${words});
     const control = new Int32Array(workerData.control);
     table.beginWrite(1);
     Atomics.store(control, 0, 1);
     Atomics.notify(control, 0);
     Atomics.wait(control, 0, 1, 50);
     table.f64[table.base(1) + 3] = -7;
     table.endWrite(1);`,
    { eval: true, workerData: { sab, control: control.buffer, module: path.join(__dirname, '../../src/ring/seqlock-table.js') } },
  );
  t.teardown(() => writer.terminate());
  while (Atomics.load(control, 0) !== 1) Atomics.wait(control, 0, 0, 1000);
  t.equal(table.readWord(1, 3), -7, 'the value the open write left, not the one it replaced');
  await once(writer, 'exit');
});
