import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import * as hdr from 'hdr-histogram-js';
import { EVENT_WORDS } from '../../src/model/events';
import { JournalWriter } from '../../src/journal/journal-writer';
import { runStandalone } from '../standalone';

/**
 * AppendThroughput: input events appended to a JournalWriter on the local disk (a fresh directory
 * under the OS temporary directory, default 64 MiB segments), in batches as the ingest path hands
 * them over: append each event, flush once per batch, then maybeSync on the default 5 ms policy.
 *
 * - "no fsync": flush only; the ceiling set by copying, CRC and write(2).
 * - "fsync 5 ms": the default policy at full speed; how often it syncs, and the durable latency.
 * - "paced 100k/s, fsync 5 ms": 100 events every millisecond, the realistic case: the time one
 *   batch spends in the journal (append + flush + maybeSync, which is the latency the journal
 *   adds to the feed, fdatasync stalls included) and the durable latency.
 * - "background": the same with backgroundSync, the fdatasync on libuv's thread pool; the loop
 *   yields to the event loop after every batch (and waits for a paced batch by yielding), as an
 *   ingest thread serving sockets would. Foreground scenarios busy-wait between paced batches.
 *
 * Durable latency is, per event, the time from just before its batch's first append to the end
 * of the sync that covers it (what a source waits for its acknowledgement); it is recorded per
 * batch with the batch's count, so an event is charged from the start of its batch. The full
 * suite adds 1 ms and 20 ms intervals to show the trade between fsync rate and latency.
 */

const BATCH = 256;
const PACED_BATCH = 100;
const PACED_PERIOD_MS = 1;
const PENDING = 1 << 16;
const MASK = PENDING - 1;

interface Scenario {
  name: string;
  fsyncIntervalMs: number | null;
  background: boolean;
  /** Events per batch; batches start every periodMs, or back to back when 0. */
  batch: number;
  periodMs: number;
}

const fast = (name: string, fsyncIntervalMs: number | null, background = false): Scenario => ({ name, fsyncIntervalMs, background, batch: BATCH, periodMs: 0 });
const paced = (name: string, fsyncIntervalMs: number, background = false): Scenario => ({
  name,
  fsyncIntervalMs,
  background,
  batch: PACED_BATCH,
  periodMs: PACED_PERIOD_MS,
});

const QUICK: Scenario[] = [
  fast('no fsync', null),
  fast('fsync 5 ms', 5),
  fast('fsync 5 ms, background', 5, true),
  paced('paced 100k/s, fsync 5 ms', 5),
  paced('paced 100k/s, fsync 5 ms, background', 5, true),
];

const FULL: Scenario[] = [
  ...QUICK,
  fast('fsync 1 ms', 1),
  paced('paced 100k/s, fsync 1 ms', 1),
  paced('paced 100k/s, fsync 1 ms, background', 1, true),
  paced('paced 100k/s, fsync 20 ms', 20),
];

type Histogram = ReturnType<typeof hdr.build>;

const newHistogram = (): Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e6, numberOfSignificantValueDigits: 3 });

function summary(h: Histogram): object | null {
  if (h.totalCount === 0) return null;
  const s = {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
  h.destroy();
  return s;
}

async function scenario(s: Scenario, seconds: number): Promise<object> {
  const durableUs = newHistogram();
  const batchUs = newHistogram();
  // Batches not yet covered by a sync: start time and last sequence, in a ring.
  const batchStart = new Float64Array(PENDING);
  const batchLast = new Float64Array(PENDING);
  let head = 0;
  let tail = 0;
  let syncs = 0;
  const onDurable = (durable: number): void => {
    const now = performance.now();
    syncs++;
    while (tail < head && batchLast[tail & MASK] <= durable) {
      durableUs.recordValueWithCount(Math.max(1, Math.round((now - batchStart[tail & MASK]) * 1000)), s.batch);
      tail++;
    }
  };
  const dir = mkdtempSync(join(tmpdir(), 'bookcast-journal-bench-'));
  const writer = JournalWriter.open(dir, { fsyncIntervalMs: s.fsyncIntervalMs ?? 5, backgroundSync: s.background, onDurable });
  try {
    const events = new Float64Array(EVENT_WORDS * s.batch);
    for (let i = 0; i < events.length; i++) events[i] = 1 + (i % 97) * 1.5;
    const start = performance.now();
    const end = start + seconds * 1000;
    let due = start;
    let now = start;
    let appended = 0;
    while (now < end) {
      if (s.periodMs > 0) {
        while (now < due) {
          if (s.background) await nextTurn();
          now = performance.now();
        }
        due += s.periodMs;
      }
      const t0 = now;
      let last = 0;
      for (let i = 0; i < s.batch; i++) last = writer.append(events, i * EVENT_WORDS);
      writer.flush();
      appended += s.batch;
      if (s.fsyncIntervalMs !== null) {
        batchStart[head & MASK] = t0;
        batchLast[head & MASK] = last;
        head++;
        writer.maybeSync(performance.now());
        if (head - tail === PENDING) throw new Error('more batches waiting for a sync than the bench tracks');
      }
      now = performance.now();
      batchUs.recordValue(Math.max(1, Math.round((now - t0) * 1000)));
      if (s.background && s.periodMs === 0) {
        await nextTurn();
        now = performance.now();
      }
    }
    const elapsed = (performance.now() - start) / 1000;
    return {
      scenario: s.name,
      fsyncIntervalMs: s.fsyncIntervalMs,
      backgroundSync: s.background,
      batch: s.batch,
      events: appended,
      seconds: Number(elapsed.toFixed(3)),
      eventsPerSecond: Math.round(appended / elapsed),
      megabytesPerSecond: Number(((appended * 80) / elapsed / 1e6).toFixed(1)),
      syncsPerSecond: Math.round(syncs / elapsed),
      batchMicros: summary(batchUs),
      durableMicros: summary(durableUs),
    };
  } finally {
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const scenarios = opts.full ? FULL : QUICK;
  const results = [];
  for (const s of scenarios) results.push(await scenario(s, opts.seconds / scenarios.length));
  return { name: 'AppendThroughput', recordBytes: 80, results };
}

if (require.main === module) runStandalone(run, 6);
