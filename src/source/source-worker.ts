/**
 * The source thread: runs the configured source and is the single producer of every book
 * worker's event ring. Arrivals follow an open-loop schedule: each event is stamped with the
 * time it was due, not the time it was written, so a late source shows up as latency downstream
 * instead of hiding it (no coordinated omission).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setImmediate as nextTurn, setTimeout as sleepMs } from 'node:timers/promises';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BookcastError } from '../errors';
import { EventWriter } from './event-writer';
import { nowMicros } from '../util/clock';
import { nameThread } from '../util/thread-name';
import { Random } from '../util/random';
import { LobsterBookReader, LobsterMessageReader, lobsterFiles } from './lobster-files';
import { LobsterTranslator } from './lobster-translator';
import { MarketSimulator } from './market-simulator';
import { ReplayOutput, ReplayPacer } from './replay-pacer';
import { replayJournal } from './journal-replay';
import type { FeedSymbolSpec, FeedVenue, SourceConfig } from '../config';
import { FeedBooks } from '../feeds/feed-books';
import { FeedConnection } from '../feeds/feed-connection';
import { CaptureLink, playCapture } from '../feeds/capture-player';
import { readCaptureHeader } from '../feeds/capture-file';
import { feedEndpoints } from '../feeds/venues';
import { SourceReport, SourceWorkerData } from './source-protocol';
import { SRC_DONE, SRC_DURABLE, SRC_EMITTED, SRC_PROMOTE, SRC_RESTORED, SRC_RESTORE_MS, SRC_STOP, SRC_WAITS, SRC_STATS_WORDS } from '../model/source-words';
import { JournalReader, JournalHandler } from '../journal/journal-reader';
import { JournalWriter, JournalWriterOptions } from '../journal/journal-writer';
import { listSegments } from '../journal/journal-segments';
import { instrumentKey, readSymbolCheckpoint } from '../engine/checkpoint-files';
import type { IngestBuffers } from './ingest-protocol';
import { refuseIfIngestSession, writeIngestSession } from './ingest-session-file';
import { IngestSource } from './ingest-source';
import { InputFollower } from '../edge/input-follower';
import { replicationKeys } from '../edge/replication-format';
import { W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../model/events';

/** Most arrivals written before publishing, so a backlog still reaches workers in slices. */
const MAX_BURST = 4096;

const data = workerData as SourceWorkerData;
nameThread('bookcast-source');
const writer = new EventWriter(data.eventRings, data.doorbells, data.ownerOf);
const stats = new Float64Array(data.stats, 0, SRC_STATS_WORDS);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Where this source's count of emitted events comes from. It is copied to the stats before the
 * books can see the events it counts, so the workers' accepted events never pass it.
 */
function countEmittedBy(count: () => number): void {
  writer.beforeVisible = () => {
    stats[SRC_EMITTED] = count();
    stats[SRC_WAITS] = writer.waits;
  };
}

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
 * Replays the journal after the books' checkpoint (all of it without one) into the books (and
 * into `simulator`, if any, so its flow continues from the same markets), then journals every new
 * event. Nothing is journaled twice: replayed events go to the rings before the writer starts
 * journaling. A file replay does not journal: the file is its own record.
 */
/** What else a live source rebuilds from the journal besides the books: the simulator's markets, a feed's copies of its books. */
interface RestoreTarget {
  restore(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number): void;
  restoreCheckpoint(symbol: number, words: Float64Array): void;
}

class Restorer implements JournalHandler {
  count = 0;

  constructor(private readonly simulator: RestoreTarget | null) {}

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
  const current = instrumentKey(data.instruments);
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

/**
 * The books hold records 1..after (a checkpoint); the journal must hold every record after it,
 * or the replay would skip events without a word.
 */
function checkJournalFollows(journal: JournalWriter, after: number): void {
  const first = listSegments(data.journalDir)[0]?.firstSequence ?? 1;
  const last = journal.nextSequence - 1;
  if (last < after || first > after + 1) {
    const books = data.checkpoint === null ? 'no checkpoint holds the books before it' : `the books' checkpoint ${data.checkpoint.path} is as of record ${after}`;
    throw new BookcastError('CHECKPOINT_CORRUPT', `the journal in ${data.journalDir} holds records ${first}..${last}, and ${books}`);
  }
}

function restoreAndJournal(simulator: RestoreTarget | null, options: JournalWriterOptions = { backgroundSync: false }): JournalWriter {
  const started = Date.now();
  checkInstruments();
  const journal = JournalWriter.open(data.journalDir, {
    ...options,
    fsyncIntervalMs: data.journalFsyncMs,
    onDurable: (durable) => {
      stats[SRC_DURABLE] = durable;
      options.onDurable?.(durable);
    },
  });
  stats[SRC_DURABLE] = journal.durableSequence;
  const checkpoint = data.checkpoint;
  const after = checkpoint?.sequence ?? 0;
  checkJournalFollows(journal, after);
  if (checkpoint !== null && simulator !== null) {
    for (const i of data.instruments) simulator.restoreCheckpoint(i.index, readSymbolCheckpoint(checkpoint, i.index));
  }
  const restorer = new Restorer(simulator);
  new JournalReader(data.journalDir).read(restorer, { fromSequence: after + 1 });
  writer.publish();
  stats[SRC_RESTORED] = restorer.count;
  stats[SRC_RESTORE_MS] = Date.now() - started;
  writer.journalTo(journal, data.checkpointCadence, after);
  // A long replayed tail is checkpointed now, not after the next events.
  writer.publish();
  return journal;
}

/**
 * The journal syncs in the background (libuv's pool), so an fdatasync never holds arrivals back
 * from the books; the loop yields to the event loop after every burst so that its completion lands.
 */
async function runSimulator(rate: number, seed: number): Promise<void> {
  const simulator = new MarketSimulator(data.instruments, data.referencePrices, seed, writer);
  countEmittedBy(() => simulator.emitted);
  refuseIfIngestSession(data.journalDir);
  const journal = restoreAndJournal(simulator, { backgroundSync: true });
  simulator.resume();
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
      await nextTurn();
    }
    if (stats[SRC_STOP] === 1) return journal.close();
    sleepUntil(due);
  }
}

/**
 * Hands a replay's, a feed's or a follower's events to the rings and counts them (SRC_EMITTED).
 * Replays pace themselves (replay-pacer.ts) and do not journal: the recording is its own record.
 */
class CountingSink implements ReplayOutput {
  count = 0;

  event(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number, timestamp: number): void {
    writer.event(kind, symbol, side, orderId, price, size, newOrderId, timestamp);
    this.count++;
  }

  publish(): void {
    writer.publish();
  }
}

/** The one sink of this thread's source, its count the one the stats show. */
function countingSink(): CountingSink {
  const sink = new CountingSink();
  countEmittedBy(() => sink.count);
  return sink;
}

function replayDone(pacer: ReplayPacer): void {
  pacer.publish();
  stats[SRC_DONE] = 1;
  parentPort!.postMessage({ type: 'done' } satisfies SourceReport);
}

function runLobster(path: string, speed: number, originalTime: boolean): void {
  const files = lobsterFiles(path);
  const messages = new LobsterMessageReader(files.messagePath, files.midnightMicros);
  const rows = new LobsterBookReader(files.orderbookPath, files.depth);
  const pacer = new ReplayPacer(countingSink(), speed, originalTime, sleepUntil);
  const translator = new LobsterTranslator(0, files.depth, pacer);
  while (messages.next() && rows.next()) translator.step(messages, rows.row);
  replayDone(pacer);
}

/** The server listens once the books hold what the journal recorded before --from. */
function runJournal(source: Extract<SourceConfig, { kind: 'journal' }>): void {
  const pacer = new ReplayPacer(countingSink(), source.speed, source.originalTime, sleepUntil);
  replayJournal(source.dir, source.from, source.until, pacer, () => {
    pacer.publish();
    ready();
  });
  replayDone(pacer);
}

/** Network ingest: the front thread accepts publishers' batches, this thread journals them. */
async function runIngest(buffers: IngestBuffers): Promise<void> {
  // fdatasync runs on libuv's pool: events keep moving to the books while the disk works, and
  // acks follow its completions.
  const durable = { noteDurable: () => undefined as void };
  const journal = restoreAndJournal(null, { backgroundSync: true, onDurable: () => durable.noteDurable() });
  await takePublishers(buffers, journal, durable, 'ready');
}

/** Hands the journal to /ingest: the front hears where the session stands (`report`), publishers may connect. */
async function takePublishers(buffers: IngestBuffers, journal: JournalWriter, durable: { noteDurable(): void }, report: 'ready' | 'promoted'): Promise<void> {
  // Ingest counts in the stats itself, after each event is written (a promoted standby's count
  // goes on from the follower's).
  writer.beforeVisible = null;
  const ingest = new IngestSource(buffers, writer, journal, data.journalDir, stats, (session, journalBase) => {
    parentPort!.postMessage({ type: 'session', session, journalBase } satisfies SourceReport);
  });
  durable.noteDurable = () => ingest.noteDurable();
  parentPort!.postMessage({ type: report, ingest: ingest.start() } satisfies SourceReport);
  await ingest.run();
  journal.close();
}

/**
 * A standby: follows the primary's stream like an edge, but journals every record it applies,
 * under the primary's own sequence (its journal starts after the checkpoint it bootstrapped
 * from), so its journal is the primary's from there on. Promoted (SRC_PROMOTE, once the server
 * took the lease), it applies the stream to its end, writes the session file of the last entry's
 * publisher session, and goes on exactly as `--source ingest` on that journal.
 */
async function runStandby(source: Extract<SourceConfig, { kind: 'standby' }>, prefix: string, buffers: IngestBuffers, blockMs: number): Promise<void> {
  const after = data.checkpoint?.sequence ?? 0;
  const durable = { noteDurable: () => undefined as void };
  const journal = restoreAndJournal(null, { backgroundSync: true, firstSequence: after + 1, onDurable: () => durable.noteDurable() });
  const sink = countingSink();
  const follower = new InputFollower(source.redisUrl, replicationKeys(prefix), sink, () => writer.publish(), stats, journal.nextSequence - 1, blockMs);
  // The group commit also runs while the stream is quiet (the follower's publish does it otherwise).
  const syncing = setInterval(() => journal.maybeSync(Date.now()), 10);
  try {
    await follower.run(() => stats[SRC_STOP] === 1, ready, () => stats[SRC_PROMOTE] === 1);
  } finally {
    clearInterval(syncing);
  }
  if (stats[SRC_STOP] === 1) return journal.close();
  writer.publish();
  const last = journal.sync();
  const session = follower.session;
  // A session whose base lies past the last record applied had no event in the stream yet: it
  // starts here, with nothing accepted (nothing of it was acknowledged, acks wait for the stream).
  if (session !== null) writeIngestSession(data.journalDir, { session: session.session, journalBase: Math.min(session.journalBase, last) });
  await takePublishers(buffers, journal, durable, 'promoted');
}

function feedBooks(venue: FeedVenue, specs: FeedSymbolSpec[], sink: CountingSink): FeedBooks {
  return new FeedBooks(venue, data.instruments, specs, sink, new Float64Array(data.feedStats!));
}

/**
 * An exchange feed: journaled like every live source. The journal (and checkpoint) rebuild the
 * feed's copy of each book first, so the venue's first snapshot is diffed against what the books
 * hold. Frames arrive on this thread's event loop; each one's events are published at once.
 */
async function runFeed(source: Extract<SourceConfig, { kind: 'feed' }>): Promise<void> {
  const sink = countingSink();
  const books = feedBooks(source.venue, source.symbols, sink);
  const journal = restoreAndJournal(books, { backgroundSync: true });
  const endpoints = feedEndpoints(source.venue, source.url, source.restUrl);
  const connection = new FeedConnection({
    ...endpoints,
    quality: books.quality,
    recorder: null,
    afterInput: () => writer.publish(),
  });
  connection.start(books.connect(connection, source.depth));
  ready();
  // The journal's group commit also runs while the venue is quiet; a stop is noticed within 10 ms.
  while (stats[SRC_STOP] !== 1) {
    await sleepMs(10);
    journal.maybeSync(Date.now());
  }
  await connection.stop();
  journal.close();
}

/** A capture of a feed, played through the same adapter; a replay, so nothing is journaled. */
async function runCapture(source: Extract<SourceConfig, { kind: 'capture' }>): Promise<void> {
  const header = readCaptureHeader(source.path);
  const sink = countingSink();
  const books = feedBooks(header.venue as FeedVenue, header.symbols, sink);
  const adapter = books.connect(new CaptureLink(), header.depth);
  ready();
  await playCapture(source.path, adapter, {
    speed: source.speed,
    originalTime: source.originalTime,
    quality: books.quality,
    afterInput: () => writer.publish(),
    stopRequested: () => stats[SRC_STOP] === 1,
  });
  writer.publish();
  stats[SRC_DONE] = 1;
  parentPort!.postMessage({ type: 'done' } satisfies SourceReport);
}

/**
 * An edge: the primary's journal records from Redis into the rings (src/edge/input-follower.ts),
 * after the checkpoint the books were loaded from; nothing is journaled here. The server listens
 * once the follower has caught up with the stream.
 */
async function runFollow(source: Extract<SourceConfig, { kind: 'follow' }>, prefix: string): Promise<void> {
  const sink = countingSink();
  const follower = new InputFollower(source.redisUrl, replicationKeys(prefix), sink, () => writer.publish(), stats, data.checkpoint?.sequence ?? 0);
  await follower.run(() => stats[SRC_STOP] === 1, ready);
}

/** Tells the server the journal (if any) has been handed to the books: it may start listening. */
function ready(): void {
  parentPort!.postMessage({ type: 'ready' } satisfies SourceReport);
}

async function main(): Promise<void> {
  const source = data.source;
  if (source.kind === 'simulator') await runSimulator(source.rate, source.seed);
  else if (source.kind === 'ingest') await runIngest(data.ingest!);
  else if (source.kind === 'none') {
    restoreAndJournal(null);
    ready();
  } else if (source.kind === 'journal') runJournal(source);
  else if (source.kind === 'feed') await runFeed(source);
  else if (source.kind === 'capture') await runCapture(source);
  else if (source.kind === 'follow') await runFollow(source, data.replicationPrefix);
  else if (source.kind === 'standby') await runStandby(source, data.replicationPrefix, data.ingest!, data.followBlockMs);
  else {
    ready();
    runLobster(source.path, source.speed, source.originalTime);
  }
}

// A fatal error reaches the server as {code, message}; rethrown, it also ends the thread.
main().catch((err) => {
  const e = err as { code?: string; message?: string };
  parentPort!.postMessage({ type: 'error', code: e.code ?? 'INTERNAL', message: String(e.message ?? err) } satisfies SourceReport);
  throw err;
});
