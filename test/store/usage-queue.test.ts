import t from 'tap';
import type { UsageRecord } from '../../src/store/store';
import { UsageQueue } from '../../src/store/usage-queue';

const rows = (n: number, tag: string): UsageRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    time: i,
    requestBytes: 0,
    responseBytes: 0,
    responseTimeMs: 1,
    status: 200,
    subject: tag,
    clientId: null,
    keyId: null,
    endpoint: '/api/v1/health',
    method: 'GET',
    userAgent: '',
    ip: '127.0.0.1',
  }));

t.test('batches are written one at a time in arrival order; a refused one is reported and the rest go on', async (t) => {
  const written: string[] = [];
  let running = 0;
  const errors: string[] = [];
  const queue = new UsageQueue(
    async (r) => {
      t.equal(++running, 1, 'one write at a time');
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      if (r[0].subject === 'b') throw new Error('refused');
      written.push(r[0].subject);
    },
    100,
    (err) => errors.push(err.message),
  );
  for (const tag of ['a', 'b', 'c']) queue.add(rows(10, tag), []);
  t.equal(queue.rows, 30);
  await queue.drained();
  t.same(written, ['a', 'c']);
  t.same(errors, ['refused']);
  t.equal(queue.rows, 0);
  t.equal(queue.dropped, 0);
});

t.test('past the bound new batches are dropped and counted; once the store catches up they are taken again', async (t) => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const written: string[] = [];
  const queue = new UsageQueue(
    async (r) => {
      await held;
      written.push(r[0].subject);
    },
    25,
    () => t.fail('no write fails'),
  );
  queue.add(rows(30, 'alone'), []);
  t.equal(queue.rows, 30, 'one batch past the bound is taken when nothing waits');
  queue.add(rows(1, 'over'), []);
  t.equal(queue.dropped, 1, 'a batch while the bound is passed is dropped');
  release();
  await queue.drained();
  queue.add(rows(10, 'after'), []);
  queue.add(rows(10, 'after 2'), []);
  queue.add(rows(10, 'over 2'), []);
  t.equal(queue.dropped, 11, 'the third batch would make 30 waiting');
  await queue.drained();
  t.same(written, ['alone', 'after', 'after 2']);
});
