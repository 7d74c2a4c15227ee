/**
 * Does a Redis cache of `latest` (5 s, the "latest data" cache) help anyone against the
 * in-memory book? One run, open loop, the same rate for each target, their requests interleaved
 * (request i goes to target i mod 3), so a load spike on this shared machine meets all of them:
 *
 * - `memory`: bookcast's GET /api/v1/market-data/BTC-USD/latest, answered from the shared-memory
 *   mirror (the rendered answer reused within a second while the sequence is unchanged);
 * - `redis-5s`: the same body from Redis (redis-latest-server.ts: a bare uWS process that GETs it
 *   from Redis, SET … EX 5 on a miss): the Redis path without bookcast's admission or rendering,
 *   so it is favoured;
 * - `redis-get`: the Redis GET alone, from this process: the round trip any Redis-cached answer
 *   adds at the least.
 *
 * Latency is from each request's intended send time (open loop: a slow answer shows as latency,
 * not as a lower rate), in µs, over keep-alive connections of one Node http agent. Prints and
 * returns p50/p99/p99.9/max and answers/s per target, the ratios redis-5s / memory, and the load.
 *
 *   node dist/bench/cache/latest-cache.js [seconds, default 5] [--rate N per target, default 1000]
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as http from 'node:http';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import Redis from 'ioredis';
import { ServerProcess } from '../gateway/server-process';
import { runStandalone } from '../standalone';
import { loadAverage } from '../system';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const LATEST_PATH = '/api/v1/market-data/BTC-USD/latest';

interface Summary {
  answers: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
}

type Sender = (done: (ok: boolean) => void) => void;

/**
 * `rate`/s requests for `seconds`, request i to sender i mod n, each timed from its intended send
 * time into histogram i mod n (µs); answers and errors per sender.
 */
function openLoop(rate: number, seconds: number, hs: Histogram[], senders: Sender[]): Promise<{ answers: number[]; errors: number[]; seconds: number }> {
  const total = Math.round(rate * seconds);
  const n = senders.length;
  const start = performance.now();
  let sent = 0;
  let settled = 0;
  const answers = new Array<number>(n).fill(0);
  const errors = new Array<number>(n).fill(0);
  return new Promise((resolve) => {
    const finish = () => {
      if (++settled === total) resolve({ answers, errors, seconds: (performance.now() - start) / 1000 });
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (sent < due) {
        const intended = start + (sent * 1000) / rate;
        const k = sent % n;
        sent++;
        senders[k]((ok) => {
          if (ok) {
            answers[k]++;
            hs[k].recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
          } else errors[k]++;
          finish();
        });
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

function httpSender(agent: http.Agent, url: string): (done: (ok: boolean) => void) => void {
  return (done) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200));
      })
      .on('error', () => done(false));
  };
}

function summary(h: Histogram, answers: number, errors: number, seconds: number): Summary {
  return {
    answers,
    errors,
    perSecond: Math.round(answers / seconds),
    p50: h.getValueAtPercentile(50),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

export async function run({ seconds, rate = 1000 }: { seconds: number; full: boolean; rate?: number }) {
  const loadBefore = loadAverage();
  const key = `bench-latest-${randomBytes(6).toString('hex')}`;
  const redis = new Redis(REDIS_URL);
  const server = await ServerProcess.start(['--port', '0', '--source', 'simulator', '--symbols', 'BTC/USD,ETH/USD', '--workers', '1'], 120_000);
  const http0 = `http://${server.host}:${server.port}`;
  const peer = fork(path.join(__dirname, 'redis-latest-server.js'), [http0 + LATEST_PATH, REDIS_URL, key], { stdio: 'inherit' });
  try {
    const [message] = (await once(peer, 'message')) as [{ type: string; port: number }];
    const redisLatest = `http://127.0.0.1:${message.port}/latest`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const targets: Record<string, (done: (ok: boolean) => void) => void> = {
      memory: httpSender(agent, http0 + LATEST_PATH),
      'redis-5s': httpSender(agent, redisLatest),
      'redis-get': (done) => void redis.getBuffer(key).then(() => done(true), () => done(false)),
    };
    const names = Object.keys(targets);
    const senders = names.map((name) => targets[name]);
    // Warm up every path (connections, JIT, the Redis key), then measure.
    await openLoop(rate * names.length, 1, names.map(() => newHistogram()), senders);
    const histograms = names.map(() => newHistogram());
    const r = await openLoop(rate * names.length, seconds, histograms, senders);
    agent.destroy();
    const results: Record<string, Summary> = {};
    names.forEach((name, i) => (results[name] = summary(histograms[i], r.answers[i], r.errors[i], r.seconds)));
    const ratio = (p: 'p50' | 'p99' | 'p999') => Math.round((results['redis-5s'][p] / results.memory[p]) * 100) / 100;
    return {
      rate,
      seconds,
      unit: 'µs from intended send time',
      results,
      redisOverMemory: { p50: ratio('p50'), p99: ratio('p99'), p999: ratio('p999') },
      faster: results.memory.p50 <= results['redis-5s'].p50 && results.memory.p99 <= results['redis-5s'].p99 ? 'memory' : 'redis-5s',
      loadAverage: { before: loadBefore, after: loadAverage() },
    };
  } finally {
    peer.kill('SIGTERM');
    await redis.unlink(key).catch(() => 0);
    redis.disconnect();
    await server.stop();
  }
}

if (require.main === module) {
  const at = process.argv.indexOf('--rate');
  const rate = at > 0 ? Number(process.argv[at + 1]) : 1000;
  const seconds = Number(process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 5);
  runStandalone((opts) => run({ ...opts, seconds, rate }), 5);
}
