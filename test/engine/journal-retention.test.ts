import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CHECKPOINTS_DIR, CheckpointInfo, checkpointPath, listCheckpoints } from '../../src/engine/checkpoint-files';
import { EventSink } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, REFERENCE_PRICES, toInstrument } from '../../src/model/instruments';
import { JournalReader } from '../../src/journal/journal-reader';
import { applyRetention } from '../../src/engine/journal-retention';
import { listSegments } from '../../src/journal/journal-segments';
import { JournalWriter } from '../../src/journal/journal-writer';
import { MarketSimulator } from '../../src/source/market-simulator';
import { formatTimestampMicros } from '../../src/wire/timestamp';
import { ReferenceBooks } from '../helpers/reference-books';
import { ServerProcess, startServerProcess, stopServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/test-server';

/**
 * Checkpoints and retention on real files and real servers: a journal recorded in three parts
 * (small segments), each restored by a server that checkpoints it; then retention as it would run
 * an hour after the first checkpoint. The journal before that checkpoint is gone, yet a restart
 * and orderbook?at= for every time since it are exactly what the whole journal said; earlier
 * times get HISTORY_EXPIRED.
 */

const SYMBOLS = ['BTC/USD', 'ETH/USD', 'SOL/USD'];
const instruments = DEFAULT_INSTRUMENTS.filter((s) => SYMBOLS.includes(s.symbol)).map((s, i) => toInstrument(s, i));
const PART = 3000;
const SEGMENT_RECORDS = 400;
const HOUR_MS = 3_600_000;

/** Simulated flow, journaled the way the source thread does it, one part at a time. */
class Recorder implements EventSink {
  private readonly words = new Float64Array(8);
  private journal: JournalWriter | null = null;
  private readonly simulator = new MarketSimulator(instruments, REFERENCE_PRICES, 11, this);
  /** An hour ago, 1 ms per arrival. */
  ts = Date.now() * 1000 - HOUR_MS * 1000;

  constructor(private readonly dir: string) {}

  event(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number, timestamp: number): void {
    this.words.set([kind, symbol, side, orderId, price, size, newOrderId, timestamp]);
    this.journal!.append(this.words, 0);
  }

  /** Appends arrivals until the journal holds `records`. */
  recordUntil(records: number): void {
    const journal = JournalWriter.open(this.dir, { segmentBytes: SEGMENT_RECORDS * 80 });
    this.journal = journal;
    while (journal.nextSequence <= records) this.simulator.arrival((this.ts += 1000));
    journal.close();
    this.journal = null;
  }
}

/** The books as the whole journal says they were at `at` (µs). */
function booksAt(journalDir: string, at: number): ReferenceBooks {
  const books = new ReferenceBooks(instruments);
  new JournalReader(journalDir).read(
    { onEvent: (_s, f, w) => books.event(f[w], f[w + 1], f[w + 2], f[w + 3], f[w + 4], f[w + 5], f[w + 6]) },
    { untilTime: at },
  );
  return books;
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

t.test('retention deletes the old journal; restarts and orderbook?at= since the oldest checkpoint stay exact', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-retention-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const journalDir = path.join(dataDir, 'journal');
  const checkpointsDir = path.join(dataDir, CHECKPOINTS_DIR);
  const recorder = new Recorder(journalDir);
  const serve = (): Promise<ServerProcess> =>
    startServerProcess(['--symbols', SYMBOLS.join(','), '--data-dir', dataDir, '--source', 'none', '--workers', '2', '--checkpoint-events', '1000']);

  // Three parts, each restored by a server that checkpoints the tail it replayed.
  const made: CheckpointInfo[] = [];
  for (let part = 1; part <= 3; part++) {
    recorder.recordUntil(part * PART);
    const server = await serve();
    try {
      const health = (await getJson(`${server.http}/api/v1/health`)).body;
      t.equal(health.checkpoints.restored_from, made.at(-1)?.sequence ?? null, `part ${part}: restored from the previous checkpoint`);
      await waitFor('the checkpoint of the replayed tail', async () => (await getJson(`${server.http}/api/v1/health`)).body.checkpoints.completed === 1);
    } finally {
      await stopServerProcess(server);
    }
    made.push(listCheckpoints(checkpointsDir).complete.at(-1)!);
  }
  const [first, second, newest] = made;
  t.ok(first.sequence >= PART && newest.sequence >= 3 * PART, `checkpoints at records ${made.map((c) => c.sequence).join(', ')}`);
  // Live retention (24 h) deleted nothing from the journal, and kept one checkpoint per hour plus the newest.
  const sameHour = Math.floor(first.createdAt / HOUR_MS) === Math.floor(second.createdAt / HOUR_MS);
  t.same(listCheckpoints(checkpointsDir).complete.map((c) => c.sequence), sameHour ? [first.sequence, newest.sequence] : made.map((c) => c.sequence), 'one checkpoint per hour, and the newest');
  t.equal(listSegments(journalDir)[0].firstSequence, 1, 'the journal is whole');

  // What the whole journal says, before retention: now, at the first checkpoint's last event,
  // just before it, and between the last two checkpoints.
  const times = {
    old: first.maxTimestamp - 1,
    first: first.maxTimestamp,
    middle: second.maxTimestamp + 777,
    now: recorder.ts + 1000,
  };
  const expected = { first: booksAt(journalDir, times.first), middle: booksAt(journalDir, times.middle), now: booksAt(journalDir, times.now) };

  // Retention as it runs an hour after the first checkpoint: that one becomes the base.
  mkdirSync(checkpointPath(checkpointsDir, first.sequence + 1)); // a crash's leftover
  const segments = listSegments(journalDir);
  const below = segments.filter((_s, i) => i + 1 < segments.length && segments[i + 1].firstSequence <= first.sequence + 1).length;
  const deleted = await applyRetention({ journalDir, checkpointsDir, retentionMs: HOUR_MS, now: first.createdAt + HOUR_MS });
  t.ok(below >= 5, `${below} of ${segments.length} segments lie wholly before the first checkpoint`);
  t.equal(deleted.segments, below, 'those segments are deleted');
  t.ok(listSegments(journalDir)[0].firstSequence <= first.sequence + 1, 'the journal still starts at or before the record after the base');
  t.notOk(existsSync(checkpointPath(checkpointsDir, first.sequence + 1)), 'an incomplete checkpoint older than the newest is removed');
  t.ok(existsSync(first.path) && existsSync(newest.path), 'the base and the newest checkpoint are kept');

  const server = await serve();
  try {
    const health = (await getJson(`${server.http}/api/v1/health`)).body;
    t.equal(health.checkpoints.restored_from, newest.sequence, 'restart loads the newest checkpoint');
    for (const [i, ins] of instruments.entries()) {
      const live = (await getJson(`${server.http}/api/v1/market/${ins.slug}/orderbook?depth=50`)).body;
      const want = expected.now.render(i, 50);
      t.same({ sequence: live.sequence, bids: live.bids, asks: live.asks }, want, `${ins.symbol}: restored book equals the whole journal's`);
      t.equal(live.checksum, expected.now.books[i].checksum(), `${ins.symbol}: checksum`);
      for (const name of ['first', 'middle', 'now'] as const) {
        const past = await getJson(`${server.http}/api/v1/market/${ins.slug}/orderbook?depth=50&at=${encodeURIComponent(formatTimestampMicros(times[name]))}`);
        t.same({ status: past.status, sequence: past.body.sequence, bids: past.body.bids, asks: past.body.asks }, { status: 200, ...expected[name].render(i, 50) }, `${ins.symbol}: orderbook?at= ${name} equals the whole journal at that time`);
        t.equal(past.body.checksum, expected[name].books[i].checksum(), `${ins.symbol}: checksum at ${name}`);
      }
      const old = await getJson(`${server.http}/api/v1/market/${ins.slug}/orderbook?depth=50&at=${encodeURIComponent(formatTimestampMicros(times.old))}`);
      t.equal(old.status, 410, `${ins.symbol}: a time before the retained journal is gone`);
      t.equal(old.body.error.code, 'HISTORY_EXPIRED', 'with a stable code');
    }
  } finally {
    await stopServerProcess(server);
  }
});
