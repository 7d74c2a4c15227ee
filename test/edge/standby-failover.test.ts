import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { BID } from '../../src/model/book-types';
import { EV_ADD, W_ORDER_ID } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, toInstrument } from '../../src/model/instruments';
import { JournalReader } from '../../src/journal/journal-reader';
import { RECORD_WORDS, entrySequence } from '../../src/edge/replication-format';
import { IngestPublisher, PublisherError } from '../../scripts/ingest-publisher';
import { startServerProcess, stopServerProcess, ServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/test-server';
import { REDIS_URL, redisReachable } from '../helpers/redis';

const TOKEN = 'failover-publisher-token';
/** Generous: a lease that lapses under the machine's load would fail over a live primary (that is the fenced case, not this test). */
const LEASE_MS = '5000';
const instrument = toInstrument(DEFAULT_INSTRUMENTS.find((i) => i.symbol === 'BTC/USD')!, 0);
/** Events acknowledged by the primary before it is killed, and by the new primary after. */
const BEFORE = 600;
const AFTER = 600;

/**
 * An edge client on l3 of BTC/USD (JSON): every update's sequence and prev_sequence, and each
 * order id added, so gaps, repeats and the exact set of applied events can be checked.
 */
class L3Client {
  readonly updates: { sequence: number; prev: number }[] = [];
  readonly added = new Map<number, number>();
  readonly ws: WebSocket;
  snapshotSequence = -1;

  constructor(server: ServerProcess) {
    this.ws = new WebSocket(`${server.http.replace('http', 'ws')}/ws`);
    this.ws.on('open', () => this.ws.send(JSON.stringify({ type: 'subscribe', channels: ['l3'], symbols: ['BTC/USD'] })));
    this.ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString());
      if (m.type === 'l3_snapshot') this.snapshotSequence = m.sequence;
      if (m.type !== 'l3_update') return;
      this.updates.push({ sequence: m.sequence, prev: m.prev_sequence });
      for (const side of [m.data.bids, m.data.asks]) for (const e of side) if (e.event === 'add') this.added.set(e.order_id, (this.added.get(e.order_id) ?? 0) + 1);
    });
  }
}

async function health(server: ServerProcess): Promise<any> {
  return (await fetch(`${server.http}/api/v1/health`)).json();
}

t.test('kill -9 of the primary under load: the standby takes the lease and the publishers, edges go on with no gap and no repeat, every acked event exactly once', async (t) => {
  if (!(await redisReachable())) {
    if (process.env.CI === 'true') throw new Error(`Redis at ${REDIS_URL} is required with CI=true`);
    t.comment('Redis is not running: skipped');
    return;
  }
  const prefix = `test:failover:${randomBytes(6).toString('hex')}`;
  const redis = new Redis(REDIS_URL);
  t.teardown(async () => {
    await redis.unlink(...['input', 'checkpoint', 'meta', 'lease', 'epoch'].map((k) => `${prefix}:${k}`));
    redis.disconnect();
  });
  const dirs = ['primary', 'standby'].map((name) => mkdtempSync(path.join(tmpdir(), `bookcast-failover-${name}-`)));
  t.teardown(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const replication = ['--redis-url', REDIS_URL, '--replication-prefix', prefix];
  const ingest = ['--publisher-token', TOKEN, '--lease-ms', LEASE_MS];

  const primary = await startServerProcess(['--data-dir', dirs[0], '--source', 'ingest', '--symbols', 'BTC/USD', '--workers', '1', '--checkpoint-interval-ms', '1000', ...ingest, ...replication]);
  t.teardown(() => stopServerProcess(primary, 'SIGKILL'));
  await waitFor('the primary to publish', async () => (await redis.exists(`${prefix}:meta`)) === 1);
  const standby = await startServerProcess(['standby', '--data-dir', dirs[1], ...ingest, ...replication]);
  t.teardown(() => stopServerProcess(standby));
  const edges = [await startServerProcess(['edge', ...replication]), await startServerProcess(['edge', ...replication])];
  t.teardown(() => Promise.all(edges.map((e) => stopServerProcess(e))));

  const before = await health(standby);
  t.equal(before.replication.lease.role, 'standby', 'the standby says it is one');
  t.equal(before.replication.lease.epoch, 0, 'and holds no epoch');
  const urls = [primary, standby].map((s) => `${s.http.replace('http', 'ws')}/ingest`);
  const early = new IngestPublisher({ url: urls[1], token: TOKEN, session: 'failover', format: 'json', symbols: [instrument], reconnect: false });
  const refused = await early.connect().then(() => null, (err: { code?: string }) => err.code);
  t.equal(refused, 'NOT_PRIMARY', 'a publisher on the standby is refused with NOT_PRIMARY');
  t.equal((await health(primary)).replication.lease.role, 'primary', 'the primary holds the lease');
  const client = new WebSocket(`${standby.http.replace('http', 'ws')}/ws`);
  // Ending a refused handshake reports "closed before the connection was established".
  client.on('error', () => undefined);
  const status = await new Promise<number>((resolve) => {
    client.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    client.on('open', () => resolve(101));
  });
  client.terminate();
  t.equal(status, 503, 'a client on the standby is refused (503 NOT_PRIMARY): it holds no clients');

  const clients = edges.flatMap((e) => [new L3Client(e), new L3Client(e)]);
  t.teardown(() => clients.forEach((c) => c.ws.close()));
  await waitFor('every edge client to have its snapshot', () => clients.every((c) => c.snapshotSequence >= 0));

  const errors: PublisherError[] = [];
  const publisher = new IngestPublisher({ url: urls, token: TOKEN, session: 'failover', format: 'json', symbols: [instrument], window: 200, onError: (e) => errors.push(e) });
  publisher.continueFrom((await publisher.connect()).accepted_sequence);
  // Open loop at about 500 events/s: each event adds a resting bid whose order id is its sequence.
  let pushing = true;
  const load = (async () => {
    while (pushing) {
      for (let i = 0; i < 5 && publisher.room() > 0; i++) {
        const n = publisher.last + 1;
        publisher.push({ kind: EV_ADD, symbol: 0, side: BID, orderId: n, newOrderId: 0, price: (60_000 - (n % 100)) * instrument.tickUnits, size: 10 * instrument.lotUnits, timestamp: 0 });
      }
      publisher.flush();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  t.teardown(async () => {
    pushing = false;
    await load;
    await publisher.close();
  });

  await waitFor(`${BEFORE} events acknowledged by the primary`, () => publisher.acked >= BEFORE, 120_000);
  const killedAt = Date.now();
  const ackedAtKill = publisher.acked;
  await stopServerProcess(primary, 'SIGKILL');
  // What an ack promised (the session began on an empty journal, so event n is journal record n):
  // the killed primary's journal on disk and the stream in Redis both hold every acked event.
  const onDisk = new JournalReader(path.join(dirs[0], 'journal')).read({ onEvent: () => undefined });
  t.ok(onDisk >= ackedAtKill, `the dead primary's journal holds ${onDisk} records, the ${ackedAtKill} acked among them`);
  const [newest] = await redis.xrevrange(`${prefix}:input`, '+', '-', 'COUNT', 1);
  t.ok(entrySequence(newest[0]) >= ackedAtKill, `the stream holds records through ${entrySequence(newest[0])}, the ${ackedAtKill} acked among them`);
  await waitFor('the standby to promote itself', async () => (await health(standby)).replication.lease.role === 'primary', 60_000);
  const promotedAt = Date.parse((await health(standby)).replication.lease.promoted_at);
  await waitFor(`${AFTER} more events acknowledged by the new primary`, () => publisher.acked >= ackedAtKill + AFTER, 120_000);
  pushing = false;
  await load;
  publisher.flush();
  await waitFor('every event pushed to be acknowledged', () => publisher.acked === publisher.last, 120_000);
  const last = publisher.last;
  await waitFor(`every edge client to see order ${last}`, () => clients.every((c) => c.added.has(last)), 120_000);
  t.comment(`kill -9 → standby promoted: ${promotedAt - killedAt} ms (lease ${LEASE_MS} ms); ${ackedAtKill} events acked before the kill, ${last} in all`);

  t.same(errors, [], 'the publisher was told of no lost acked events and no error');
  t.ok(publisher.connections >= 2, `the publisher reconnected (${publisher.connections} connections)`);
  t.equal(publisher.url, urls[1], 'to the standby');
  const after = await health(standby);
  t.equal(after.replication.lease.role, 'primary', 'the standby is the primary now');
  t.equal(after.replication.lease.epoch, 2, 'under the next epoch');
  t.equal(after.ingest.accepted_sequence, last, 'and holds the session through its last event');
  const metrics = await (await fetch(`${standby.http}/metrics`)).text();
  t.match(metrics, /bookcast_lease_primary 1/, '/metrics shows the lease');
  t.match(metrics, /bookcast_lease_epoch 2/);

  for (const [i, client] of clients.entries()) {
    let gaps = 0;
    let repeats = 0;
    let expected = client.snapshotSequence;
    for (const u of client.updates) {
      if (u.sequence <= expected) repeats++;
      else if (u.prev !== expected) gaps++;
      expected = Math.max(expected, u.sequence);
    }
    t.equal(gaps, 0, `edge client ${i}: no gap in ${client.updates.length} l3 updates`);
    t.equal(repeats, 0, `edge client ${i}: no update twice`);
    const missing: number[] = [];
    const twice: number[] = [];
    for (let n = 1; n <= last; n++) {
      const seen = client.added.get(n) ?? 0;
      if (seen === 0) missing.push(n);
      else if (seen > 1) twice.push(n);
    }
    t.same(missing.slice(0, 10), [], `edge client ${i}: every acknowledged event applied (orders 1..${last})`);
    t.same(twice.slice(0, 10), [], `edge client ${i}: none applied twice`);
    t.equal(client.added.size, last, `edge client ${i}: and nothing else`);
  }
});

/** Every record in the stream, in order: (journal sequence, order id). */
async function streamRecords(redis: Redis, stream: string): Promise<{ sequence: number; orderId: number }[]> {
  const records: { sequence: number; orderId: number }[] = [];
  for (const [, fields] of (await redis.xrangeBuffer(stream, '-', '+')) as [Buffer, Buffer[]][]) {
    const at = fields.findIndex((f) => f.toString() === 'r');
    const bytes = fields[at + 1];
    const f = new Float64Array(bytes.length / 8);
    new Uint8Array(f.buffer).set(bytes);
    for (let w = 0; w < f.length; w += RECORD_WORDS) records.push({ sequence: f[w], orderId: f[w + 1 + W_ORDER_ID] });
  }
  return records;
}

t.test('a primary paused past its lease comes back fenced: it acks nothing more, Redis refuses its writes, the publisher moves to the new primary', async (t) => {
  if (!(await redisReachable())) {
    if (process.env.CI === 'true') throw new Error(`Redis at ${REDIS_URL} is required with CI=true`);
    return;
  }
  const prefix = `test:fenced:${randomBytes(6).toString('hex')}`;
  const redis = new Redis(REDIS_URL);
  t.teardown(async () => {
    await redis.unlink(...['input', 'checkpoint', 'meta', 'lease', 'epoch'].map((k) => `${prefix}:${k}`));
    redis.disconnect();
  });
  const dirs = ['primary', 'standby'].map((name) => mkdtempSync(path.join(tmpdir(), `bookcast-fenced-${name}-`)));
  t.teardown(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const replication = ['--redis-url', REDIS_URL, '--replication-prefix', prefix];
  const ingest = ['--publisher-token', TOKEN, '--lease-ms', LEASE_MS];
  const primary = await startServerProcess(['--data-dir', dirs[0], '--source', 'ingest', '--symbols', 'BTC/USD', '--workers', '1', ...ingest, ...replication]);
  t.teardown(async () => {
    primary.child.kill('SIGCONT');
    await stopServerProcess(primary, 'SIGKILL');
  });
  await waitFor('the primary to publish', async () => (await redis.exists(`${prefix}:meta`)) === 1);
  const standby = await startServerProcess(['standby', '--data-dir', dirs[1], ...ingest, ...replication]);
  t.teardown(() => stopServerProcess(standby));

  const errors: PublisherError[] = [];
  const urls = [primary, standby].map((s) => `${s.http.replace('http', 'ws')}/ingest`);
  const publisher = new IngestPublisher({ url: urls, token: TOKEN, session: 'fenced', format: 'flatbuffers', symbols: [instrument], window: 1000, onError: (e) => errors.push(e) });
  t.teardown(() => publisher.close());
  publisher.continueFrom((await publisher.connect()).accepted_sequence);
  const push = (count: number) => {
    for (let i = 0; i < count; i++) {
      const n = publisher.last + 1;
      publisher.push({ kind: EV_ADD, symbol: 0, side: BID, orderId: n, newOrderId: 0, price: (60_000 - (n % 100)) * instrument.tickUnits, size: 10 * instrument.lotUnits, timestamp: 0 });
    }
    publisher.flush();
  };
  push(100);
  await waitFor('100 events acknowledged', () => publisher.acked === 100);

  // Paused past its lease (a long GC, a frozen VM): the standby takes over meanwhile.
  primary.child.kill('SIGSTOP');
  // Sent to the paused primary: its socket buffers them; it may even journal them once it runs again.
  push(100);
  await waitFor('the standby to promote itself', async () => (await health(standby)).replication.lease.role === 'primary', 60_000);
  primary.child.kill('SIGCONT');
  await waitFor('the old primary to find itself fenced', async () => (await health(primary)).replication.lease.role === 'fenced', 60_000);
  push(100);
  await waitFor('every event acknowledged, by the new primary', () => publisher.acked === 300 && publisher.url === urls[1], 120_000);

  const old = await health(primary);
  t.equal(old.ingest.refusing, 'PRIMARY_FENCED', 'the old primary refuses publishers');
  t.equal(old.replication.published_through, 100, 'its writes after the takeover were refused');
  t.equal(old.ingest.durable_sequence, 100, 'and it could acknowledge nothing past them');
  t.match(await (await fetch(`${primary.http}/metrics`)).text(), /bookcast_lease_fenced 1/, '/metrics says fenced');
  const again = new IngestPublisher({ url: urls[0], token: TOKEN, session: 'fenced', format: 'json', symbols: [instrument], reconnect: false });
  t.equal(await again.connect().then(() => null, (err: { code?: string }) => err.code), 'PRIMARY_FENCED', 'a new publisher connection is refused with PRIMARY_FENCED');
  t.notOk(errors.some((e) => e.code === 'ACKED_EVENTS_LOST'), 'no acknowledged event was lost');

  const records = await streamRecords(redis, `${prefix}:input`);
  t.same(records.map((r) => r.sequence), records.map((_, i) => i + 1), `the stream's ${records.length} records are consecutive: nothing of the fenced primary after the takeover`);
  t.same(records.map((r) => r.orderId), Array.from({ length: 300 }, (_, i) => i + 1), 'every event exactly once, in order');
});
