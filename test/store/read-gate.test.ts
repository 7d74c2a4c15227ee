import t from 'tap';
import { ReadGate } from '../../src/store/read-gate';

t.test('reads wait while a write runs (exclusive), at most one at a time, and past the bound are BUSY', async (t) => {
  const gate = new ReadGate(1, 2, true);
  const order: string[] = [];
  let endWrite!: () => void;
  const write = gate.write(() => new Promise<void>((resolve) => (endWrite = () => { order.push('write'); resolve(); })));
  const reads = [1, 2].map((i) => gate.read(async () => void order.push(`read ${i}`)));
  await t.rejects(gate.read(async () => undefined), { code: 'BUSY' }, 'a third waiting read is refused');
  t.equal(gate.refused, 1);
  await new Promise((resolve) => setImmediate(resolve));
  t.same(order, [], 'no read starts while the write runs');
  endWrite();
  await write;
  await Promise.all(reads);
  t.same(order, ['write', 'read 1', 'read 2']);
  t.equal(gate.pending, 0);
});

t.test('a timer fires between reads that answer without the event loop (PGlite)', async (t) => {
  const gate = new ReadGate(1, 10, true);
  const order: string[] = [];
  // Each read holds the thread for 5 ms, as a query in WebAssembly does: the timer is due once the first has run.
  const busy = (): void => {
    const until = performance.now() + 5;
    while (performance.now() < until);
  };
  const reads = [1, 2, 3, 4].map((i) => gate.read(async () => void (busy(), order.push(`read ${i}`))));
  setTimeout(() => order.push('timer'), 1);
  await Promise.all(reads);
  t.ok(order.indexOf('timer') !== -1 && order.indexOf('timer') < order.length - 1, `the timer ran before the last read (${order.join(', ')})`);
});
