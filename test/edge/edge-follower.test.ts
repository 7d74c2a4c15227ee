import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { decodeMessage } from '../../src/wire/message-decoder';
import { startServerProcess, stopServerProcess, ServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/test-server';
import { REDIS_URL, redisReachable } from '../helpers/redis';
import { request } from '../helpers/http-request';

const SYMBOLS = ['BTC/USD', 'ETH/USD'];
/** Messages of one stream both clients must have in common before they are compared. */
const COMMON = 150;

/** One sequenced message as the wire carried it; `key` names it the same on every server. */
interface Frame {
  key: string;
  stream: string;
  sequence: number;
  bytes: Uint8Array;
}

/**
 * A client subscribed to every channel of SYMBOLS in one dialect, keeping each sequenced message's
 * exact bytes. Snapshots and control messages are left out: a snapshot answers this client's own
 * subscription, at a moment of its own. The key counts repeats (a ticker can repeat a sequence).
 */
class Recorder {
  readonly frames: Frame[] = [];
  private readonly seen = new Map<string, number>();
  readonly ws: WebSocket;

  constructor(base: string, readonly format: 'json' | 'flatbuffers') {
    this.ws = new WebSocket(`${base.replace('http', 'ws')}/ws${format === 'flatbuffers' ? '?format=flatbuffers' : ''}`);
    this.ws.on('message', (data: Buffer, binary: boolean) => {
      let type: string;
      let symbol: string;
      let sequence: number;
      let detail = '';
      if (binary) {
        const m = decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) as any;
        type = m.type;
        symbol = m.symbol;
        sequence = m.sequence;
        detail = String(m.depth ?? m.interval ?? '');
      } else {
        const m = JSON.parse(data.toString());
        type = m.type;
        symbol = m.symbol;
        sequence = m.sequence;
        detail = String(m.data?.depth ?? m.data?.interval ?? '');
      }
      if (sequence === undefined || type.endsWith('snapshot') || type === 'heartbeat') return;
      const stream = `${type}:${symbol}:${detail}`;
      const at = `${stream}:${sequence}`;
      const n = (this.seen.get(at) ?? 0) + 1;
      this.seen.set(at, n);
      this.frames.push({ key: `${at}#${n}`, stream, sequence, bytes: new Uint8Array(data) });
    });
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  subscribe(): void {
    this.ws.send(JSON.stringify({ type: 'subscribe', channels: ['l2', 'l3', 'trades', 'ticker'], symbols: SYMBOLS, depth: 10 }));
    this.ws.send(JSON.stringify({ type: 'subscribe', channels: ['candles'], symbols: SYMBOLS, interval: '1m' }));
  }

  /** Messages of `stream` that `other` also had the chance to see (the sequences both cover). */
  overlap(other: Recorder, stream: string): number {
    const mine = this.frames.filter((f) => f.stream === stream);
    const theirs = other.frames.filter((f) => f.stream === stream);
    if (mine.length === 0 || theirs.length === 0) return 0;
    const from = Math.max(mine[0].sequence, theirs[0].sequence);
    const until = Math.min(mine.at(-1)!.sequence, theirs.at(-1)!.sequence);
    return mine.filter((f) => f.sequence > from && f.sequence < until).length;
  }
}

/**
 * Compares two clients' messages of `stream` over the range both saw in full, leaving out each
 * one's first message after subscribing (its prev_sequence names that client's own snapshot).
 * Returns how many messages matched byte for byte; reports every difference.
 */
function compare(t: Test, a: Recorder, b: Recorder, stream: string): number {
  const mine = a.frames.filter((f) => f.stream === stream).slice(1);
  const theirs = b.frames.filter((f) => f.stream === stream).slice(1);
  if (mine.length === 0 || theirs.length === 0) return 0;
  const from = Math.max(mine[0].sequence, theirs[0].sequence);
  const until = Math.min(mine.at(-1)!.sequence, theirs.at(-1)!.sequence);
  // Messages at the range's ends may be incomplete on one side (a repeat still to come): inside only.
  const inside = (f: Frame) => f.sequence > from && f.sequence < until;
  const left = mine.filter(inside);
  const right = new Map(theirs.filter(inside).map((f) => [f.key, f.bytes]));
  t.same(left.map((f) => f.key), [...right.keys()], `${stream}: the same messages on both, sequences ${from}..${until}`);
  let equal = 0;
  for (const f of left) {
    const other = right.get(f.key);
    if (other !== undefined && Buffer.compare(other, f.bytes) === 0) equal++;
    else if (other !== undefined) t.fail(`${stream} ${f.key}: bytes differ\n${Buffer.from(f.bytes).toString('hex').slice(0, 200)}\n${Buffer.from(other).toString('hex').slice(0, 200)}`);
  }
  return equal;
}

// Fresh connections (http-request.ts): a pooled one can pass the server's 10 s idle timeout while
// a starved test process gets round to reusing it, and then fails with no answer at all.
async function health(server: ServerProcess): Promise<any> {
  return JSON.parse((await request(`${server.http}/api/v1/health`)).body);
}

t.test('edges follow a primary through Redis: the same bytes in both dialects, lag reported, a late edge starts from the checkpoint', async (t) => {
  if (!(await redisReachable())) {
    if (process.env.CI === 'true') throw new Error(`Redis at ${REDIS_URL} is required with CI=true`);
    t.comment('Redis is not running: skipped');
    return;
  }
  const prefix = `test:edge:${randomBytes(6).toString('hex')}`;
  const redis = new Redis(REDIS_URL);
  t.teardown(async () => {
    await redis.unlink(`${prefix}:input`, `${prefix}:checkpoint`, `${prefix}:meta`);
    redis.disconnect();
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-edge-primary-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const replication = ['--redis-url', REDIS_URL, '--replication-prefix', prefix];
  const primary = await startServerProcess(['--data-dir', dir, '--rate', '400', '--symbols', SYMBOLS.join(','), '--checkpoint-interval-ms', '1000', ...replication]);
  t.teardown(() => stopServerProcess(primary));
  await waitFor('the primary to publish', async () => (await redis.exists(`${prefix}:meta`)) === 1);
  const edge = await startServerProcess(['edge', ...replication]);
  t.teardown(() => stopServerProcess(edge));

  const clients = [primary, edge].flatMap((s) => [new Recorder(s.http, 'flatbuffers'), new Recorder(s.http, 'json')]);
  t.teardown(() => clients.forEach((c) => c.ws.close()));
  await Promise.all(clients.map((c) => c.opened()));
  clients.forEach((c) => c.subscribe());
  const l2 = `l2_update:BTC/USD:10`;
  await waitFor(`${COMMON} depth-10 updates in common`, () => clients[0].overlap(clients[2], l2) > COMMON && clients[1].overlap(clients[3], l2) > COMMON, 120_000);

  for (const [i, format] of [[0, 'flatbuffers'], [1, 'json']] as const) {
    const [onPrimary, onEdge] = [clients[i], clients[i + 2]];
    const streams = new Set(onPrimary.frames.map((f) => f.stream));
    let matched = 0;
    for (const stream of streams) matched += compare(t, onPrimary, onEdge, stream);
    t.ok(matched > COMMON, `${format}: ${matched} messages byte-identical on the primary and the edge (${[...streams].join(', ')})`);
  }

  const followed = (await health(edge)).replication;
  t.equal(followed.connected, true, 'the edge reports its Redis connection');
  t.equal(typeof followed.lag_records, 'number', 'and its lag in records');
  t.ok(followed.applied_through > 0, 'and how far it has applied');
  const metrics = (await request(`${edge.http}/metrics`)).body;
  t.match(metrics, /bookcast_follower_lag_seconds \d/, '/metrics has the lag');

  // A second edge, later: it loads the checkpoint the primary published, then the stream after it.
  const late = await startServerProcess(['edge', ...replication]);
  t.teardown(() => stopServerProcess(late));
  const restored = (await health(late)).checkpoints.restored_from;
  t.ok(restored > 0, `the late edge started from the published checkpoint (record ${restored})`);
  const lateClients = [new Recorder(primary.http, 'flatbuffers'), new Recorder(late.http, 'flatbuffers')];
  t.teardown(() => lateClients.forEach((c) => c.ws.close()));
  await Promise.all(lateClients.map((c) => c.opened()));
  lateClients.forEach((c) => c.subscribe());
  await waitFor(`${COMMON} updates in common with the late edge`, () => lateClients[0].overlap(lateClients[1], l2) > COMMON, 120_000);
  let matched = 0;
  for (const stream of new Set(lateClients[0].frames.map((f) => f.stream))) matched += compare(t, lateClients[0], lateClients[1], stream);
  t.ok(matched > COMMON, `late edge: ${matched} messages byte-identical with the primary's`);
});
