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
