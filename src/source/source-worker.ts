/**
 * The source thread: runs the configured source and is the single producer of every book
 * worker's event ring. Arrivals follow an open-loop schedule: each event is stamped with the
 * time it was due, not the time it was written, so a late source shows up as latency downstream
 * instead of hiding it (no coordinated omission).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BookcastError } from '../errors';
import { EventWriter } from '../engine/event-writer';
import { nowMicros } from '../util/clock';
import { Random } from '../util/random';
import type { EventSink } from '../engine/events';
import { LobsterBookReader, LobsterMessageReader, lobsterFiles } from './lobster-files';
import { LobsterTranslator } from './lobster-translator';
import { MarketSimulator } from './market-simulator';
import { SourceReport, SourceWorkerData, SRC_DONE, SRC_EMITTED, SRC_RESTORED, SRC_WAITS, SRC_STATS_WORDS } from './source-protocol';
import { JournalReader, JournalHandler } from '../journal/journal-reader';
import { JournalWriter } from '../journal/journal-writer';
import { W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../engine/events';

/** Most arrivals written before publishing, so a backlog still reaches workers in slices. */
const MAX_BURST = 4096;

const data = workerData as SourceWorkerData;
const writer = new EventWriter(data.eventRings, data.doorbells, data.ownerOf);
const stats = new Float64Array(data.stats, 0, SRC_STATS_WORDS);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Sleeps until about `untilUs`. Gaps under 50 µs are not slept (the next arrival is handled at
 * once); longer ones sleep, and the kernel's oversleep (tens of µs) makes those events late, which
 * shows as latency downstream since events carry their due time. Spinning instead would be more
 * punctual but burn a core that the book workers and the front thread need.
 */
function sleepUntil(untilUs: number): void {
  const wait = untilUs - nowMicros();
  if (wait > 50) Atomics.wait(sleeper, 0, 0, Math.min(wait, 100_000) / 1000);
}

/**
 * Replays the journal into the books (and into `simulator`, if any, so its flow continues from
 * the same markets), then journals every new event. Nothing is journaled twice: replayed events
 * go to the rings before the writer starts journaling. A file replay does not journal: the file
 * is its own record.
 */
class Restorer implements JournalHandler {
  count = 0;

  constructor(private readonly simulator: MarketSimulator | null) {}

  onEvent(_sequence: number, f: Float64Array, w: number): void {
    writer.event(f[w + W_KIND], f[w + W_SYMBOL], f[w + W_SIDE], f[w + W_ORDER_ID], f[w + W_PRICE], f[w + W_SIZE], f[w + W_NEW_ORDER_ID], f[w + W_TIMESTAMP]);
    this.simulator?.restore(f[w + W_KIND], f[w + W_SYMBOL], f[w + W_SIDE], f[w + W_ORDER_ID], f[w + W_PRICE], f[w + W_SIZE], f[w + W_NEW_ORDER_ID]);
    if (++this.count % 4096 === 0) writer.publish();
  }
}

/**
 * The journal names instruments by index, so it only means something with the instrument list it
 * was recorded with: that list is kept beside it, and a start with another list is refused
 * rather than replayed into the wrong books.
 */
function checkInstruments(): void {
  const file = path.join(data.journalDir, 'instruments.json');
  const current = JSON.stringify(data.instruments.map((i) => [i.symbol, i.tickSize, i.lotSize]));
  mkdirSync(data.journalDir, { recursive: true });
  if (!existsSync(file)) {
    writeFileSync(file, current);
    return;
  }
  if (readFileSync(file, 'utf8') !== current) {
    throw new BookcastError(
      'CONFIG_INVALID',
      `the journal in ${data.journalDir} was recorded with other symbols (${file}); start with the same symbols or another --data-dir`,
    );
  }
}

function restoreAndJournal(simulator: MarketSimulator | null): void {
  checkInstruments();
  const journal = JournalWriter.open(data.journalDir, { backgroundSync: false });
  const restorer = new Restorer(simulator);
  new JournalReader(data.journalDir).read(restorer);
  writer.publish();
  simulator?.resume();
  stats[SRC_RESTORED] = restorer.count;
  writer.journalTo(journal);
}

function runSimulator(rate: number, seed: number): void {
  const simulator = new MarketSimulator(data.instruments, data.referencePrices, seed, writer);
  restoreAndJournal(simulator);
  ready();
  const arrivals = new Random(seed ^ 0x5eed);
  const meanGap = 1e6 / rate;
  let due = nowMicros();
  for (;;) {
    const now = nowMicros();
    let burst = 0;
    while (due <= now && burst < MAX_BURST) {
      // Scheduled on a fractional clock, stamped in whole microseconds like every timestamp.
      simulator.arrival(Math.floor(due));
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

/**
 * Replays a recorded file on its own clock scaled by `speed` (0: as fast as the books take it).
 * Events are stamped with their scheduled wall-clock time, so downstream latency is measured
 * from when the replay meant to deliver them, like the simulator's; or, with `originalTime`, with
 * the time recorded in the file, so candles and stored history line up with the recording.
 */
class ScheduledSink implements EventSink {
  due = 0;
  count = 0;

  constructor(private readonly originalTime: boolean) {}

  event(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number, timestamp: number): void {
    writer.event(kind, symbol, side, orderId, price, size, newOrderId, this.originalTime ? timestamp : this.due);
    this.count++;
  }
}

function runLobster(path: string, speed: number, originalTime: boolean): void {
  const files = lobsterFiles(path);
  const messages = new LobsterMessageReader(files.messagePath, files.midnightMicros);
  const rows = new LobsterBookReader(files.orderbookPath, files.depth);
  const sink = new ScheduledSink(originalTime);
  const translator = new LobsterTranslator(0, files.depth, sink);
  const start = nowMicros();
  let first = -1;
  while (messages.next() && rows.next()) {
    if (first < 0) first = messages.time;
    sink.due = speed > 0 ? Math.floor(start + (messages.time - first) / speed) : nowMicros();
    if (sink.due > nowMicros() + 300) {
      writer.publish();
      stats[SRC_EMITTED] = sink.count;
      sleepUntil(sink.due);
    }
    translator.step(messages, rows.row);
  }
  writer.publish();
  stats[SRC_EMITTED] = sink.count;
  stats[SRC_WAITS] = writer.waits;
  stats[SRC_DONE] = 1;
  parentPort!.postMessage({ type: 'done' } satisfies SourceReport);
}

/** Tells the server the journal (if any) has been handed to the books: it may start listening. */
function ready(): void {
  parentPort!.postMessage({ type: 'ready' } satisfies SourceReport);
}

try {
  if (data.source.kind === 'simulator') runSimulator(data.source.rate, data.source.seed);
  else if (data.source.kind === 'none') {
    restoreAndJournal(null);
    ready();
  } else {
    ready();
    runLobster(data.source.path, data.source.speed, data.source.originalTime);
  }
} catch (err) {
  const e = err as { code?: string; message?: string };
  parentPort!.postMessage({ type: 'error', code: e.code ?? 'INTERNAL', message: String(e.message ?? err) } satisfies SourceReport);
  throw err;
}
