/**
 * A piscina task (runs in a pool thread, off the front thread): the L2 book of one symbol as it
 * was at a past time, rebuilt exactly (engine/journal-books.ts, as `bookcast replay` rebuilds
 * books) from the newest checkpoint that holds only events up to that time, plus the journal
 * after it (the whole journal when no checkpoint qualifies and the journal still starts at its
 * first record). The journal is read through a time index kept in this thread
 * (journal-time-index.ts), so the cost is one checkpoint load plus the journal between that
 * checkpoint and the time asked, not every record after the checkpoint; the first request after
 * a start pays for indexing the journal once.
 *
 * Errors cross back as answers, not throws: piscina keeps only an Error's message, and the front
 * needs the code (HISTORY_EXPIRED: that time's journal has been deleted).
 */
import { existsSync } from 'node:fs';
import { ASK, BID } from '../model/book-types';
import { CheckpointInfo, listCheckpoints } from '../engine/checkpoint-files';
import { JournalBooks } from '../engine/journal-books';
import { JournalTimeIndex } from '../journal/journal-time-index';
import { listSegments } from '../journal/journal-segments';
import { formatTimestampMicros } from '../wire/timestamp';
import { nameThread } from '../util/thread-name';

export interface BookAtTask {
  journalDir: string;
  checkpointDir: string;
  symbol: number;
  tickUnits: number;
  lotUnits: number;
  at: number;
  depth: number;
}

/** What the front asks; the server adds where the journal and checkpoints are. */
export type BookAtRequest = Omit<BookAtTask, 'journalDir' | 'checkpointDir'>;

export interface BookAt {
  sequence: number;
  timestamp: number;
  checksum: number;
  bids: [number, number][];
  asks: [number, number][];
}

export type BookAtAnswer = BookAt | { error: { code: 'HISTORY_EXPIRED' | 'HISTORY_UNAVAILABLE'; message: string } };

nameThread('bookcast-heavy');

/** One index per journal, kept for the life of this thread (the pool keeps it alive). */
const indexes = new Map<string, JournalTimeIndex>();

function indexOf(journalDir: string): JournalTimeIndex {
  let index = indexes.get(journalDir);
  if (index === undefined) {
    index = new JournalTimeIndex(journalDir);
    indexes.set(journalDir, index);
  }
  return index;
}

export default function bookAt(task: BookAtTask): BookAtAnswer {
  if (!existsSync(task.journalDir)) return { error: { code: 'HISTORY_UNAVAILABLE', message: `no journal at ${task.journalDir}` } };
  try {
    return rebuild(task);
  } catch {
    // Retention may have deleted the checkpoint or segments picked a moment ago: plan once more
    // (a real fault fails again, and is reported).
    return rebuild(task);
  }
}

function rebuild(task: BookAtTask): BookAtAnswer {
  const first = listSegments(task.journalDir)[0]?.firstSequence ?? 1;
  // Usable: the journal still holds the record after it. Qualifies for `at`: no event in it is later.
  const usable = listCheckpoints(task.checkpointDir).complete.filter((c) => c.sequence + 1 >= first);
  let from: CheckpointInfo | null = null;
  for (const c of usable) if (c.maxTimestamp <= task.at) from = c;
  if (from === null && first > 1) {
    const oldest = usable.length === 0 ? 'none is left' : `the earliest time answered is ${formatTimestampMicros(usable[0].maxTimestamp)}`;
    return { error: { code: 'HISTORY_EXPIRED', message: `the journal before ${formatTimestampMicros(task.at)} has been deleted (--journal-retention-hours); ${oldest}` } };
  }

  // Only the asked symbol's book is rebuilt: the others' records are skipped.
  const units = Array.from({ length: task.symbol + 1 }, (_, i) => (i === task.symbol ? task : null));
  const rebuilt = new JournalBooks(units);
  if (from !== null) rebuilt.startFrom(from);
  rebuilt.replay(indexOf(task.journalDir), task.at);
  const book = rebuilt.books[task.symbol]!;
  const side = (s: number): [number, number][] =>
    Array.from({ length: Math.min(task.depth, book.levelCount(s)) }, (_, i) => [book.levelPrice(s, i), book.levelSize(s, i)]);
  return { sequence: rebuilt.sequences[task.symbol], timestamp: rebuilt.timestamps[task.symbol], checksum: book.checksum(), bids: side(BID), asks: side(ASK) };
}
