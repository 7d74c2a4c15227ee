/**
 * Failover time (issue 12): an ingest primary under a lease, a standby and an edge as processes on
 * Redis, a publisher in this process pushing ~500 events/s with both URLs, and a client on the
 * edge. Each trial kills the primary with SIGKILL and measures, on this process's clock:
 *   promoted      kill → the standby took the lease (its health's promoted_at; same machine clock)
 *   firstMessage  kill → the edge client's first message carrying an event pushed after the kill,
 *                 which only the new primary can have sequenced (an upper bound by one 10 ms push)
 * Then a new standby is started on a fresh data directory (it bootstraps from the new primary's
 * checkpoint and stream) and the next trial kills the new primary: TRIALS failovers in a chain,
 * one edge and one publisher session throughout.
 *
 *   node dist/bench/edge/failover-time.js         (Redis at BOOKCAST_BENCH_REDIS or 127.0.0.1:6379;
 *                                                  BOOKCAST_BENCH_LEASE_MS, default 600)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { BID } from '../../src/model/book-types';
import { EV_ADD } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, toInstrument } from '../../src/model/instruments';
import { IngestPublisher } from '../../scripts/ingest-publisher';
import { ServerProcess, delay } from '../gateway/server-process';
import { runStandalone } from '../standalone';

const REDIS_URL = process.env.BOOKCAST_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const LEASE_MS = Number(process.env.BOOKCAST_BENCH_LEASE_MS ?? 600);
const TRIALS = 10;
const START_MS = 240_000;
const TOKEN = 'bench-failover-token';
const instrument = toInstrument(DEFAULT_INSTRUMENTS.find((i) => i.symbol === 'BTC/USD')!, 0);

async function health(server: ServerProcess): Promise<any> {
  return (await fetch(`http://${server.host}:${server.port}/api/v1/health`)).json();
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

function ingestUrl(server: ServerProcess): string {
  return `ws://${server.host}:${server.port}/ingest`;
}

function summary(values: number[]): { median: number; worst: number; all: number[] } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return { median: sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, worst: sorted[sorted.length - 1], all: values };
}

export async function run(): Promise<object> {
  const prefix = `bench:failover:${randomBytes(6).toString('hex')}`;
  const redis = new Redis(REDIS_URL);
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const replication = ['--redis-url', REDIS_URL, '--replication-prefix', prefix, '--lease-ms', String(LEASE_MS), '--checkpoint-interval-ms', '1000', '--publisher-token', TOKEN, '--port', '0'];
  const fresh = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-bench-failover-'));
    dirs.push(dir);
    return dir;
  };
  const start = async (args: string[]) => {
    const server = await ServerProcess.start([...args, ...replication], START_MS);
    servers.push(server);
    return server;
  };
  let publisher: IngestPublisher | null = null;
  let ws: WebSocket | null = null;
  let pushing = true;
  const load = { done: Promise.resolve() };
  const promoted: number[] = [];
  const firstMessage: number[] = [];
  const loadavgs: number[][] = [];
  try {
    let primary = await start(['--data-dir', fresh(), '--source', 'ingest', '--symbols', 'BTC/USD', '--workers', '1']);
    await until(async () => (await redis.exists(`${prefix}:meta`)) === 1, 'the primary to publish');
    const edge = await start(['--source', 'follow']);
    // Arrival time of the first add of each order id on the edge.
    const arrivals = new Map<number, number>();
    ws = new WebSocket(`ws://${edge.host}:${edge.port}/ws`);
    ws.on('open', () => ws!.send(JSON.stringify({ type: 'subscribe', channels: ['l3'], symbols: ['BTC/USD'] })));
    ws.on('message', (data: Buffer) => {
      const at = performance.now();
      const m = JSON.parse(data.toString());
      if (m.type !== 'l3_update') return;
      for (const e of m.data.bids) if (e.event === 'add' && !arrivals.has(e.order_id)) arrivals.set(e.order_id, at);
    });
    for (let trial = 0; trial < TRIALS; trial++) {
      const standby = await start(['--source', 'standby', '--data-dir', fresh()]);
      // The session goes on across publishers: each new one continues where bookcast stands.
      await publisher?.close();
      pushing = false;
      await load.done;
      publisher = new IngestPublisher({ url: [ingestUrl(primary), ingestUrl(standby)], token: TOKEN, session: 'bench', format: 'flatbuffers', symbols: [instrument], window: 10_000 });
      publisher.continueFrom((await publisher.connect()).accepted_sequence);
      const p = publisher;
      pushing = true;
      load.done = (async () => {
        while (pushing) {
          for (let i = 0; i < 5; i++) {
            const n = p.last + 1;
            p.push({ kind: EV_ADD, symbol: 0, side: BID, orderId: n, newOrderId: 0, price: (60_000 - (n % 100)) * instrument.tickUnits, size: 10 * instrument.lotUnits, timestamp: 0 });
          }
          p.flush();
          await delay(10);
        }
      })();
      const ackedAtStart = p.acked;
      await until(async () => p.acked >= ackedAtStart + 500 && (await health(standby)).replication.lag_records === 0, 'the standby to catch up under load');
      const pushedBefore = p.last;
      const killedAt = performance.now();
      const killedWall = Date.now();
      process.kill(primary.pid, 'SIGKILL');
      await until(() => [...arrivals.keys()].some((id) => id > pushedBefore), 'a message from the new primary on the edge');
      let first = Infinity;
      for (const [id, at] of arrivals) if (id > pushedBefore && at < first) first = at;
      firstMessage.push(Math.round(first - killedAt));
      const lease = (await health(standby)).replication.lease;
      promoted.push(Date.parse(lease.promoted_at) - killedWall);
      loadavgs.push(loadavg());
      await primary.stop();
      primary = standby;
    }
    return {
      trials: TRIALS,
      leaseMs: LEASE_MS,
      promotedMs: summary(promoted),
      firstMessageMs: summary(firstMessage),
      loadavg: loadavgs,
    };
  } finally {
    pushing = false;
    await load.done;
    await publisher?.close();
    ws?.close();
    for (const server of servers.reverse()) await server.stop();
    await redis.unlink(...['input', 'checkpoint', 'meta', 'lease', 'epoch'].map((k) => `${prefix}:${k}`));
    redis.disconnect();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) runStandalone(run, 0);
