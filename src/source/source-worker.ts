/**
 * The source thread: runs the configured source and is the single producer of every book
 * worker's event ring. Arrivals follow an open-loop schedule: each event is stamped with the
 * time it was due, not the time it was written, so a late source shows up as latency downstream
 * instead of hiding it (no coordinated omission).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EventWriter } from '../engine/event-writer';
import { nowMicros } from '../util/clock';
import { Random } from '../util/random';
import { MarketSimulator } from './market-simulator';
import { SourceReport, SourceWorkerData, SRC_EMITTED, SRC_WAITS, SRC_STATS_WORDS } from './source-protocol';

/** Most arrivals written before publishing, so a backlog still reaches workers in slices. */
const MAX_BURST = 4096;

const data = workerData as SourceWorkerData;
const writer = new EventWriter(data.eventRings, data.doorbells, data.ownerOf);
const stats = new Float64Array(data.stats, 0, SRC_STATS_WORDS);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps until about `untilUs`, waking early enough to spin the last stretch. */
function sleepUntil(untilUs: number): void {
  const wait = untilUs - nowMicros();
  if (wait > 300) Atomics.wait(sleeper, 0, 0, Math.min(wait - 200, 100_000) / 1000);
}

function runSimulator(rate: number, seed: number): void {
  const simulator = new MarketSimulator(data.instruments, data.referencePrices, seed, writer);
  const arrivals = new Random(seed ^ 0x5eed);
  const meanGap = 1e6 / rate;
  let due = nowMicros();
  for (;;) {
    const now = nowMicros();
    let burst = 0;
    while (due <= now && burst < MAX_BURST) {
      simulator.arrival(due);
      due += arrivals.exponential(meanGap);
      burst++;
    }
    if (burst > 0) {
      writer.publish();
      stats[SRC_EMITTED] = simulator.emitted;
      stats[SRC_WAITS] = writer.waits;
    }
    sleepUntil(due);
  }
}

try {
  parentPort!.postMessage({ type: 'ready' } satisfies SourceReport);
  if (data.source.kind === 'simulator') runSimulator(data.source.rate, data.source.seed);
} catch (err) {
  const e = err as { code?: string; message?: string };
  parentPort!.postMessage({ type: 'error', code: e.code ?? 'INTERNAL', message: String(e.message ?? err) } satisfies SourceReport);
  throw err;
}
