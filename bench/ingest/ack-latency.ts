import { setTimeout as delay } from 'node:timers/promises';
import * as hdr from 'hdr-histogram-js';
import { EV_CLEAR } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, REFERENCE_PRICES, toInstrument } from '../../src/model/instruments';
import { MarketSimulator } from '../../src/source/market-simulator';
import { IngestPublisher } from '../../scripts/ingest-publisher';
import { runStandalone } from '../standalone';
import { ownCpuSeconds, processCpuSeconds, round } from '../system';
import { mergeHistograms, newHistogram, nowMicros } from '../gateway/child-processes';
import { DataDir } from '../gateway/data-dir';
import { ServerProcess } from '../gateway/server-process';

/**
 * IngestAckLatency: a publisher (scripts/ingest-publisher.ts, FlatBuffers batches, a window of
 * 100k unacknowledged events) pushes the market simulator's order flow to a bookcast started with
 * --source ingest, on an open-loop schedule: order arrival i is due at start + i / rate, and is
 * stamped and charged from that time even when the window or the event loop made it late (no
 * coordinated omission). Latency is from an arrival's due time to the ack that covers its last
 * event: what a matching engine waits before it may forget an event (journal append, group
 * commit fdatasync every 5 ms, the ack back). One arrival is 1.3 events on average.
 *
 * Each rate is a new publisher session on the same server. "max" sends as fast as the window
 * lets it: the sustained ingest rate, acks included. The server (its books, journal and
 * persistence to the embedded store) and this process share the machine: CPU seconds of both
 * are reported.
 */

const TOKEN = 'bench-ingest-token-0123456789';
const WINDOW = 100_000;
const TICK_MS = 1;

interface Phase {
  /** Arrivals per second; Infinity: as fast as the window allows. */
  rate: number;
  seconds: number;
}

async function phase(server: ServerProcess, p: Phase, index: number): Promise<object> {
  const instruments = DEFAULT_INSTRUMENTS.map((s, i) => toInstrument(s, i));
  const histogram = newHistogram();
  // Pending arrivals: the sequence of each one's last event, and its due time (µs).
  let lastSeq = new Float64Array(1 << 16);
  let dueUs = new Float64Array(1 << 16);
  let head = 0;
  let tail = 0;
  let ackedAt = 0;
  const publisher = new IngestPublisher({
    url: `ws://${server.host}:${server.port}/ingest`,
    token: TOKEN,
    session: `bench-${index}`,
    format: 'flatbuffers',
    symbols: instruments,
    window: WINDOW,
    reconnect: false,
    onAck: (sequence) => {
      const now = nowMicros();
      while (head < tail && lastSeq[head] <= sequence) histogram.recordValue(Math.max(1, Math.round(now - dueUs[head++])));
      ackedAt = now;
    },
  });
  const welcome = await publisher.connect();
  publisher.continueFrom(welcome.accepted_sequence);
  const firstSequence = publisher.last + 1;
  const engine = new MarketSimulator(instruments, REFERENCE_PRICES, 100 + index, {
    event: (kind, symbol, side, orderId, price, size, newOrderId, timestamp) => publisher.push({ kind, symbol, side, orderId, newOrderId, price, size, timestamp }),
  });
  for (const ins of instruments) publisher.push({ kind: EV_CLEAR, symbol: ins.index, side: 0, orderId: 0, newOrderId: 0, price: 0, size: 0, timestamp: 0 });

  const serverCpu0 = processCpuSeconds(server.pid);
  const ownCpu0 = ownCpuSeconds();
  const start = nowMicros();
  const end = start + p.seconds * 1e6;
  let arrivals = 0;
  let windowFull = 0;
  for (let now = start; now < end; now = nowMicros()) {
    const due = Number.isFinite(p.rate) ? Math.min(Math.floor(((now - start) * p.rate) / 1e6), Math.floor((p.seconds * p.rate))) : Infinity;
    while (arrivals < due) {
      if (publisher.room() <= 8) {
        windowFull++;
        break;
      }
      const dueAt = Number.isFinite(p.rate) ? start + (arrivals * 1e6) / p.rate : nowMicros();
      engine.arrival(Math.floor(dueAt));
      if (tail === lastSeq.length) {
        const grow = (a: Float64Array) => {
          const b = new Float64Array(a.length * 2);
          b.set(a.subarray(head, tail));
          return b;
        };
        lastSeq = grow(lastSeq);
        dueUs = grow(dueUs);
        tail -= head;
        head = 0;
      }
      lastSeq[tail] = publisher.last;
      dueUs[tail++] = dueAt;
      arrivals++;
    }
    publisher.flush();
    await delay(Number.isFinite(p.rate) ? TICK_MS : 0);
  }
  publisher.flush();
  const drainBy = Date.now() + 30_000;
  while (publisher.acked < publisher.last && Date.now() < drainBy) await delay(5);
  const events = publisher.acked - firstSequence + 1;
  const seconds = (ackedAt - start) / 1e6;
  await publisher.close();
  const serverCpu1 = processCpuSeconds(server.pid);
  const latency = mergeHistograms([hdr.encodeIntoCompressedBase64(histogram)]);
  histogram.destroy();
  return {
    rate: Number.isFinite(p.rate) ? p.rate : 'max',
    arrivals,
    events,
    unacknowledged: publisher.last - publisher.acked,
    seconds: round(seconds, 3),
    eventsPerSecond: Math.round(events / seconds),
    windowFull,
    ackMicros: latency,
    cpuSeconds: {
      server: serverCpu0 === null || serverCpu1 === null ? null : round(serverCpu1 - serverCpu0, 2),
      publisher: round(ownCpuSeconds() - ownCpu0, 2),
    },
  };
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const rates = opts.full ? [10_000, 50_000, 100_000, 200_000, Infinity] : [20_000, 100_000, Infinity];
  const dataDir = new DataDir();
  const server = await ServerProcess.start(['--port', '0', '--source', 'ingest', '--publisher-token', TOKEN, ...dataDir.args], 60_000);
  const kill = () => server.killNow();
  process.once('exit', kill);
  try {
    const results = [];
    for (let i = 0; i < rates.length; i++) results.push(await phase(server, { rate: rates[i], seconds: opts.seconds / rates.length }, i));
    const health = (await server.health()) as unknown as { ingest: object; persistence: object };
    return { name: 'IngestAckLatency', window: WINDOW, results, ingest: health.ingest, persistence: health.persistence };
  } finally {
    await server.stop();
    process.removeListener('exit', kill);
    dataDir.remove();
  }
}

if (require.main === module) runStandalone(run, 9);
