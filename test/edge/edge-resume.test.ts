import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { BookcastClient } from '../../src/client';
import type { ResumeMessage, ServerShutdownMessage } from '../../src/client';
import { startServerProcess, stopServerProcess } from '../helpers/server-process';
import { continuity, Logged, StreamLog, subscribeText } from '../helpers/stream-log';
import { waitFor } from '../helpers/test-server';
import { REDIS_URL, redisReachable } from '../helpers/redis';

const SYMBOL = 'BTC/USD';
/** Updates each client must get on each server before the next step. */
const STEP = 30;

/** An SDK client on the edges and the primary in turn, keeping what it got, per connection. */
class Resumer {
  readonly l2: (Logged & { connection: number })[] = [];
  readonly trades: (Logged & { connection: number })[] = [];
  readonly resumes: ResumeMessage[] = [];
  readonly shutdowns: ServerShutdownMessage[] = [];
  snapshots = 0;

  constructor(readonly name: string, readonly client: BookcastClient) {
    client.on('l2', (_book, m) => {
      if (m.type === 'l2_snapshot') this.snapshots++;
      else this.l2.push({ type: m.type, sequence: m.sequence, link: m.prev_sequence, connection: client.connections });
    });
    client.on('trade', (m) => this.trades.push({ type: 'trade', sequence: m.sequence, link: m.data.trade_id, connection: client.connections }));
    client.on('resumed', (n) => this.resumes.push(n));
    client.on('shutdown', (n) => this.shutdowns.push(n));
  }

  on(connection: number): number {
    return this.l2.filter((m) => m.connection === connection).length;
  }
}

/** The part of `log` from the reference's first message on. */
function since(reference: Logged[], log: Logged[]): Logged[] {
  return log.filter((m) => m.sequence >= reference[0].sequence);
}

t.test('kill -9 of an edge: its clients resume on the other edge, then on the primary after a SIGTERM, with no gap and no duplicate', async (t) => {
  if (!(await redisReachable())) {
    if (process.env.CI === 'true') throw new Error(`Redis at ${REDIS_URL} is required with CI=true`);
    t.comment('Redis is not running: skipped');
    return;
  }
  const prefix = `test:edge-resume:${randomBytes(6).toString('hex')}`;
  const redis = new Redis(REDIS_URL);
  t.teardown(async () => {
    await redis.unlink(`${prefix}:input`, `${prefix}:checkpoint`, `${prefix}:meta`);
    redis.disconnect();
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-edge-resume-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Buffers far larger than what flows while a client reconnects, however slow the loaded machine
  // makes it; and slow-consumer limits no client here reaches, since a resynchronised client (or
  // reference) would show a second snapshot and a hole that no server caused.
  const replication = [
    '--redis-url', REDIS_URL, '--replication-prefix', prefix, '--resume-messages', '100000', '--resume-bytes', String(64 * 1024 * 1024),
    '--soft-backpressure', String(256 * 1024 * 1024), '--max-backpressure', String(512 * 1024 * 1024),
  ];
  const primary = await startServerProcess(['--data-dir', dir, '--rate', '1500', '--symbols', 'BTC/USD,ETH/USD', '--checkpoint-interval-ms', '1000', ...replication]);
  t.teardown(() => stopServerProcess(primary));
  await waitFor('the primary to publish', async () => (await redis.exists(`${prefix}:meta`)) === 1);
  const edgeA = await startServerProcess(['edge', ...replication]);
  t.teardown(() => stopServerProcess(edgeA, 'SIGKILL'));
  const edgeB = await startServerProcess(['edge', ...replication, '--shutdown-spread-ms', '500']);
  t.teardown(() => stopServerProcess(edgeB));
  const ws = (http: string) => http.replace('http', 'ws');

  // The reference: a client on the primary throughout. Edge B has a client of its own on the same
  // streams, as an edge with traffic does: a stream nobody follows there has no recent messages.
  const reference = await StreamLog.open(ws(primary.http), 'json');
  reference.send(subscribeText('json', SYMBOL));
  const keeper = await StreamLog.open(ws(edgeB.http), 'flatbuffers');
  keeper.send(subscribeText('flatbuffers', SYMBOL));
  t.teardown(() => {
    reference.close();
    keeper.close();
  });
  await waitFor('the reference and the keeper to follow', () => reference.of('l2_snapshot').length === 1 && keeper.of('l2_snapshot').length === 1, 120_000);

  const urls = [edgeA, edgeB, primary].map((s) => ws(s.http));
  const resumers = [
    new Resumer('json', new BookcastClient({ url: urls, reconnect: { baseMs: 100, capMs: 1000 } })),
    new Resumer('flatbuffers', new BookcastClient({ url: urls, format: 'flatbuffers', reconnect: { baseMs: 100, capMs: 1000 } })),
    new Resumer('market-data', new BookcastClient({ url: urls, dialect: 'market-data', reconnect: { baseMs: 100, capMs: 1000 } })),
  ];
  t.teardown(() => resumers.forEach((r) => r.client.close()));
  for (const r of resumers) {
    await r.client.connect();
    r.client.subscribe({ channels: ['l2', 'trades'], symbols: [SYMBOL], depth: 10 });
  }
  await waitFor(`${STEP} updates on edge A`, () => resumers.every((r) => r.on(1) >= STEP && r.trades.length > 0), 120_000);

  // A crash under load: the clients go to edge B and resume there.
  await stopServerProcess(edgeA, 'SIGKILL');
  // Each stream's notice answers its own request (the Market Data dialect sends one per channel):
  // wait for both, not for an order of arrival.
  await waitFor(`${STEP} updates and two resume notices on edge B`, () => resumers.every((r) => r.on(2) >= STEP && r.resumes.length >= 2), 120_000);
  for (const r of resumers) {
    t.equal(r.client.connections, 2, `${r.name}: reconnected once`);
    t.same(r.resumes.map((n) => n.data.mode), ['replay', 'replay'], `${r.name}: l2 and trades replayed on edge B (${r.resumes.map((n) => n.data.reason).join(', ')})`);
  }

  // A graceful stop of edge B: server_shutdown, then the clients resume on the primary.
  await stopServerProcess(edgeB);
  await waitFor('the keeper closed', () => keeper.closed !== null);
  t.equal(keeper.closed!.code, 1001, 'edge B closes with 1001');
  const [notice] = keeper.controls('server_shutdown');
  t.ok(notice.data.reconnect_after_ms >= 0 && notice.data.reconnect_after_ms < 500, 'a reconnect hint within the spread');
  t.ok(notice.data.resume_from.some((p: { channel: string; sequence: number }) => p.channel === 'l2' && p.sequence > 0), 'and the resume points');
  await waitFor(`${STEP} updates and two more resume notices on the primary`, () => resumers.every((r) => r.on(3) >= STEP && r.resumes.length >= 4), 120_000);
  // The last updates may still be on their way to the reference: compare what it has.
  await waitFor('the reference to have what the clients have', () => resumers.every((r) => reference.of('l2_update').some((m) => m.sequence >= r.l2.at(-1)!.sequence)), 60_000);

  for (const r of resumers) {
    t.equal(r.shutdowns.length, 1, `${r.name}: got server_shutdown from edge B`);
    t.equal(r.client.connections, 3, `${r.name}: reconnected to the primary`);
    t.same(r.resumes.slice(2).map((n) => n.data.mode), ['replay', 'replay'], `${r.name}: replayed on the primary`);
    t.equal(r.snapshots, 1, `${r.name}: one snapshot, the first`);
    t.equal(r.client.resyncs.gap + r.client.resyncs.checksum, 0, `${r.name}: the book never needed a resync`);
    // Edge A lags the primary, so a client's first updates there can come before the reference's
    // own snapshot on the primary (seen at load ~15): compare from the reference's first message,
    // long before the two resumes.
    const ref = reference.of('l2_update');
    const before = r.l2.filter((m) => m.connection === 1);
    t.equal(continuity(ref, since(ref, before), r.l2.slice(before.length)), null, `${r.name}: l2 updates across three servers as the primary sent them`);
    const trades = reference.of('trade');
    const first = r.trades.filter((m) => m.connection === 1);
    t.equal(continuity(trades, since(trades, first), r.trades.slice(first.length)), null, `${r.name}: trades across three servers as the primary sent them`);
  }
});
