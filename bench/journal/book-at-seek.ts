import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { JournalBooks } from '../../src/engine/journal-books';
import { EV_CLEAR, EventSink } from '../../src/model/events';
import { JournalReader } from '../../src/journal/journal-reader';
import { JournalTimeIndex } from '../../src/journal/journal-time-index';
import { JournalWriter } from '../../src/journal/journal-writer';
import { findLobsterSamples, lobsterDataDir } from '../../src/source/lobster-files';
import { replayLobsterFile } from '../../src/source/lobster-translator';
import { runStandalone } from '../standalone';

/**
 * BookAtSeek: the journal part of `orderbook?at=` (book-at-task.ts) on real data. The GOOG
 * level-10 LOBSTER day (~150k engine events) is journaled `copies` times, a day apart (a clear
 * between copies), 1.8 M events with the default 12. For a time T in copy k the task starts at
 * the newest checkpoint before T (here: the start of copy k) and replays the events up to T:
 * - before: JournalReader.read({fromSequence, untilTime: T}), what the task did: every record
 *   from the checkpoint to the journal's end is read and CRC-checked, then filtered by time;
 * - after: JournalTimeIndex.read (what it does now): only blocks whose least time is <= T.
 * The first indexed read also builds the index (once per journal, per heavy-work thread).
 * Figures: ms per request (median of `repeats`), records read.
 */

const DAY_US = 86_400_000_000;

function collect(file: string): Float64Array[] {
  const events: Float64Array[] = [];
  const sink: EventSink = {
    event(kind, symbol, side, orderId, price, size, newOrderId, timestamp) {
      events.push(Float64Array.of(kind, symbol, side, orderId, price, size, newOrderId, timestamp));
    },
  };
  replayLobsterFile(file, { sink });
  return events;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)] * 10) / 10;
}

export async function bookAtSeek({ full }: { seconds: number; full: boolean }): Promise<unknown> {
  const samples = existsSync(lobsterDataDir()) ? findLobsterSamples(lobsterDataDir()) : [];
  const file = samples.find((f) => f.includes('GOOG') && f.endsWith('_10.csv'));
  if (file === undefined) return { skipped: `LOBSTER GOOG level-10 sample not found at ${lobsterDataDir()}` };
  const copies = full ? 24 : 12;
  const day = collect(file);
  const dir = mkdtempSync(join(tmpdir(), 'bookcast-book-at-'));
  try {
    const journal = JournalWriter.open(dir, { fsyncIntervalMs: 1000 });
    const record = new Float64Array(8);
    const copyStart: number[] = [];
    for (let c = 0; c < copies; c++) {
      copyStart.push(journal.nextSequence);
      record.set([EV_CLEAR, 0, 0, 0, 0, 0, 0, day[0][7] + c * DAY_US]);
      journal.append(record, 0);
      for (const e of day) {
        record.set(e);
        record[7] = e[7] + c * DAY_US;
        journal.append(record, 0);
      }
    }
    journal.sync();
    journal.close();
    const events = copies * (day.length + 1);

    // The task's handler: one book rebuilt, as JournalBooks rebuilds it for orderbook?at=.
    const books = () => new JournalBooks([{ tickUnits: 1, lotUnits: 1 }]);
    // Noon of the recorded day (13:xx New York time is mid-file), in copy k.
    const noon = day[Math.floor(day.length / 2)][7];
    const repeats = 5;
    const index = new JournalTimeIndex(dir);
    const t0 = performance.now();
    index.read(books(), copyStart[0], noon);
    const firstIndexedMs = Math.round((performance.now() - t0) * 10) / 10;
    const points = [];
    for (const k of [0, Math.floor(copies / 2), copies - 1]) {
      const at = noon + k * DAY_US;
      const before: number[] = [];
      const after: number[] = [];
      let beforeDelivered = 0;
      let afterDelivered = 0;
      let afterRecords = 0;
      for (let r = 0; r < repeats; r++) {
        const read = books();
        let s = performance.now();
        beforeDelivered = new JournalReader(dir).read(read, { fromSequence: copyStart[k], untilTime: at });
        before.push(performance.now() - s);
        const indexed = books();
        const read0 = index.recordsRead;
        s = performance.now();
        afterDelivered = index.read(indexed, copyStart[k], at);
        after.push(performance.now() - s);
        afterRecords = index.recordsRead - read0;
        if (indexed.books[0]!.checksum() !== read.books[0]!.checksum()) throw new Error(`copy ${k}: the indexed read built another book`);
      }
      points.push({
        copy: k,
        eventsDelivered: afterDelivered,
        same: beforeDelivered === afterDelivered,
        beforeRecordsRead: events - copyStart[k] + 1,
        beforeMs: median(before),
        afterRecordsRead: afterRecords,
        afterMs: median(after),
      });
    }
    return { file, journalEvents: events, copies, repeats, firstIndexedReadMs: firstIndexedMs, points };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) runStandalone(bookAtSeek, 0);
