import t from 'tap';
import { MessageChannel } from 'node:worker_threads';
import { BATCH_ROWS, UsageBatcher } from '../../src/accounting/usage-batcher';
import { type PackedUsage, UsagePacker, unpackUsage } from '../../src/store/usage-pack';
import type { UsageRecord } from '../../src/store/store';

function row(i: number, over: Partial<UsageRecord> = {}): UsageRecord {
  return {
    time: 1_764_800_000_000_000 + i,
    responseTimeMs: 0.125 * i,
    requestBytes: i % 3 === 0 ? 0 : 17 * i,
    responseBytes: 2 ** 40 + i,
    status: i % 5 === 0 ? 429 : 200,
    subject: i % 2 === 0 ? `ip:10.0.0.${i % 7}` : 'client-a',
    clientId: i % 2 === 0 ? null : 'client-a',
    keyId: i % 4 === 1 ? 'key-1' : null,
    endpoint: i % 2 === 0 ? '/api/v1/market/:symbol/orderbook' : '/api/v1/market-data/:symbol/latest',
    method: 'GET',
    userAgent: i % 3 === 0 ? '' : `agent/${i % 3}`,
    ip: `10.0.0.${i % 7}`,
    ...over,
  };
}

/** The batch as the persistence worker receives it: posted with its buffer transferred. */
function post(batch: PackedUsage): Promise<PackedUsage> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port2.once('message', (m: PackedUsage) => {
      port1.close();
      port2.close();
      resolve(m);
    });
    port1.postMessage(batch, [batch.numbers]);
  });
}

t.test('a packed batch crosses a port, buffer moved, and unpacks to the rows that went in', async (t) => {
  const packer = new UsagePacker(64);
  const rows = Array.from({ length: 50 }, (_, i) => row(i));
  for (const r of rows) packer.add({ ...r });
  t.equal(packer.rows, 50);
  const batch = packer.take();
  t.equal(packer.rows, 0, 'the packer starts a new batch');
  const received = await post(batch);
  t.equal(batch.numbers.byteLength, 0, 'the sender kept no copy: the buffer was transferred');
  t.same(unpackUsage(received), rows);
  const distinct = new Set(rows.flatMap((r) => [r.subject, r.clientId, r.keyId, r.endpoint, r.method, r.userAgent, r.ip]).filter((s) => s !== null));
  t.equal(received.strings.length, distinct.size, 'each string once per batch');
});

t.test('each batch carries its own strings: rows repeating the last batch\'s values still name them', async (t) => {
  const packer = new UsagePacker(8);
  for (let batch = 0; batch < 3; batch++) {
    // The same rows, in runs (a caller repeating itself) and interleaved, in every batch.
    const rows = [row(1), row(1), row(2), row(1), row(3), row(3)];
    for (const r of rows) packer.add({ ...r });
    t.same(unpackUsage(await post(packer.take())), rows, `batch ${batch + 1}`);
  }
});

t.test('strings of any content survive, and an empty batch unpacks to nothing', async (t) => {
  const packer = new UsagePacker(4);
  const odd = row(1, { userAgent: 'é😀\u0000"\\', subject: '', clientId: '', keyId: '' });
  packer.add({ ...odd });
  t.same(unpackUsage(await post(packer.take())), [odd], 'an empty string is a string, not null');
  t.same(unpackUsage(await post(packer.take())), []);
});

t.test('a packer refuses a row past its capacity and says when it is full', async (t) => {
  const packer = new UsagePacker(2);
  packer.add(row(1));
  t.notOk(packer.full);
  packer.add(row(2));
  t.ok(packer.full);
  t.throws(() => packer.add(row(3)), RangeError);
  t.same(unpackUsage(packer.take()), [row(1), row(2)], 'the refused row did not land in the batch');
});

t.test('the batcher posts a full batch at once and the rest on flush, each row once, in order', async (t) => {
  const batches: PackedUsage[] = [];
  const batcher = new UsageBatcher((batch) => batches.push(batch), true, null);
  const rows = Array.from({ length: 2.5 * BATCH_ROWS }, (_, i) => row(i));
  for (const r of rows) batcher.record({ ...r });
  t.equal(batches.length, 2, 'two full batches went without waiting for the timer');
  batcher.flush();
  t.equal(batches.length, 3);
  const received = batches.flatMap(unpackUsage);
  t.same(received, rows.map((r) => ({ ...r, ip: r.ip.replace(/\.\d+$/, '.0') })), '--anonymize-ip zeroes the host part');
  t.same(batcher.health(), { recorded: rows.length, pending: 0, rate_buckets_dropped: 0 });
  batcher.flush();
  t.equal(batches.length, 3, 'nothing to post, nothing posted');
});
