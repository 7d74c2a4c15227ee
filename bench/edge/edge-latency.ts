/**
 * What an edge adds: a primary (simulator, open-loop arrivals at RATE/s) publishing to Redis and
 * one edge following it, as processes; one client on each, in this process, subscribed to the
 * same trades. For every trade both clients receive, the edge's arrival minus the primary's (one
 * clock: this process's) is the latency the replication path adds: the journal's group commit
 * (records are published once durable), the publisher's poll, Redis, the follower's XREAD, and the
 * edge's own engine and front. Also the stream's throughput (records/s and bytes/s into Redis),
 * and the follower's lag as its health reports it (`replication.lag_ms`: from the primary's XADD of
 * the entry it applied last to that application), read every LAG_SAMPLE_MS over the window.
 *
 *   node dist/bench/edge/edge-latency.js [seconds]     (needs Redis at BOOKCAST_BENCH_REDIS or 127.0.0.1:6379)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { decodeMessage } from '../../src/wire/message-decoder';
import { nowMicros } from '../gateway/child-processes';
import { guardChildren } from '../gateway/exit-guard';
import { ServerProcess, delay } from '../gateway/server-process';
import { runStandalone } from '../standalone';

const REDIS_URL = process.env.BOOKCAST_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const RATE = 1000;
const START_MS = 240_000;
const LAG_SAMPLE_MS = 100;

/**
 * Arrival time (wall-clock µs, the clock the primary stamps events with) of every trade by
 * sequence, and each trade's event time (the same on both servers).
 */
function listen(server: ServerProcess, arrivals: Map<number, number>, stamps: Map<number, number>): WebSocket {
  const ws = new WebSocket(server.url);
  ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', channels: ['trades'], symbols: ['BTC/USD'] })));
  ws.on('message', (data: Buffer, binary: boolean) => {
    const at = nowMicros();
    // Control replies (subscribed) are JSON text in both dialects.
    if (!binary) return;
    const m = decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (m.type !== 'trade') return;
    arrivals.set(m.sequence, at);
    stamps.set(m.sequence, m.timestamp);
  });
  return ws;
}

function summary(h: hdr.Histogram): { p50: number; p99: number; p999: number; max: number } {
  return { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue };
}

async function health(server: ServerProcess): Promise<any> {
  return (await fetch(`http://${server.host}:${server.port}/api/v1/health`)).json();
}

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

/** Records the edge's reported lag (ms) every LAG_SAMPLE_MS until `untilMs` (performance.now()). */
async function sampleLag(edge: ServerProcess, untilMs: number, into: hdr.Histogram): Promise<void> {
  while (performance.now() < untilMs) {
    const lag = (await health(edge)).replication;
    into.recordValue(Math.max(0, lag.lag_ms));
    await delay(LAG_SAMPLE_MS);
  }
}

export async function run(opts: { seconds: number }): Promise<object> {
  const prefix = `bench:edge:${randomBytes(6).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-bench-edge-'));
  const redis = new Redis(REDIS_URL);
  const replication = ['--redis-url', REDIS_URL, '--replication-prefix', prefix];
  let primary: ServerProcess | null = null;
  let edge: ServerProcess | null = null;
  const sockets: WebSocket[] = [];
  const unguard = guardChildren(() => {
    edge?.killNow();
    primary?.killNow();
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    primary = await ServerProcess.start(['--port', '0', '--data-dir', dir, '--rate', String(RATE), '--symbols', 'BTC/USD,ETH/USD', ...replication], START_MS);
    while ((await redis.exists(`${prefix}:meta`)) === 0) await delay(100);
    edge = await ServerProcess.start(['--source', 'follow', '--port', '0', ...replication], START_MS);
    const onPrimary = new Map<number, number>();
    const onEdge = new Map<number, number>();
    const stamps = new Map<number, number>();
    sockets.push(listen(primary, onPrimary, stamps), listen(edge, onEdge, stamps));
    await delay(2000);
    onPrimary.clear();
    onEdge.clear();
    const before = (await health(primary)).replication;
    const started = performance.now();
    const lagMs = histogram();
    await sampleLag(edge, started + opts.seconds * 1000, lagMs);
    const after = (await health(primary)).replication;
    const elapsed = (performance.now() - started) / 1000;
    await delay(1000);
    const added = histogram();
    const primaryFromEvent = histogram();
    const edgeFromEvent = histogram();
    let pairs = 0;
    for (const [sequence, at] of onPrimary) {
      const there = onEdge.get(sequence);
      if (there === undefined) continue;
      const stamp = stamps.get(sequence)!;
      added.recordValue(Math.max(1, Math.round(there - at)));
      primaryFromEvent.recordValue(Math.max(1, Math.round(at - stamp)));
      edgeFromEvent.recordValue(Math.max(1, Math.round(there - stamp)));
      pairs++;
    }
    const lag = (await health(edge)).replication;
    return {
      rate: RATE,
      seconds: opts.seconds,
      loadavg: loadavg(),
      trades: { onPrimary: onPrimary.size, onEdge: onEdge.size, paired: pairs },
      edgeAddsUs: summary(added),
      // From the trade's event time (the primary's stamp) to its arrival, on each side.
      primaryClientUs: summary(primaryFromEvent),
      edgeClientUs: summary(edgeFromEvent),
      stream: {
        recordsPerSecond: (after.published_through - before.published_through) / elapsed,
        bytesPerSecond: (after.bytes - before.bytes) / elapsed,
        entriesPerSecond: (after.entries - before.entries) / elapsed,
      },
      followerLagMs: { samples: lagMs.totalCount, p50: lagMs.getValueAtPercentile(50), p99: lagMs.getValueAtPercentile(99), max: lagMs.maxValue },
      edgeLagAtEnd: { records: lag.lag_records, ms: lag.lag_ms },
    };
  } finally {
    for (const ws of sockets) ws.close();
    await edge?.stop();
    await primary?.stop();
    await redis.unlink(`${prefix}:input`, `${prefix}:checkpoint`, `${prefix}:meta`);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
    unguard();
  }
}

if (require.main === module) runStandalone(run, 20);
