/**
 * Replaying an input journal (`--source journal:<dir>`, `bookcast replay --source journal:<dir>`):
 * the instruments it was recorded with, its events paced into the books of a server, or its
 * books rebuilt in this thread.
 *
 * The window: `until` drops every event recorded after it, the same filter the journal reader
 * and `orderbook?at=` apply (timestamps are the sources' and need not grow with the sequence).
 * `from` does not drop anything, since an order book is the sum of every event before it: the
 * events recorded before `from` go to the books at once, and the replay proper (paced,
 * re-published as it goes) starts at the first event at or after it.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generatedInstruments } from '../config';
import { BookcastError } from '../errors';
import { JournalBooks } from '../engine/journal-books';
import { W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../model/events';
import { DEFAULT_INSTRUMENTS, Instrument, InstrumentSpec, toInstrument } from '../model/instruments';
import { JOURNAL_CORRUPT, JOURNAL_NOT_FOUND, JournalError } from '../journal/journal-error';
import { JournalHandler, JournalReader } from '../journal/journal-reader';
import { listSegments } from '../journal/journal-segments';
import type { ReplayPacer } from './replay-pacer';

/** Written beside the journal by the live source (source-worker.ts checkInstruments): [[symbol, tickSize, lotSize], ...]. */
const INSTRUMENTS_FILE = 'instruments.json';

const DECIMAL = /^\d+(\.\d+)?$/;
const GENERATED = /^SIM(\d{3,5})\/USD$/;

/**
 * The full spec of a recorded [symbol, tick, lot]: the built-in or generated instrument of that
 * name when its increments match (so /symbols answers as it did live), else one made from the
 * record alone (a source's own symbols), with the lot as its minimum order size.
 */
function specOf(symbol: string, tickSize: string, lotSize: string): InstrumentSpec {
  const generated = GENERATED.exec(symbol);
  const known = generated === null ? DEFAULT_INSTRUMENTS.find((i) => i.symbol === symbol) : generatedInstruments(Number(generated[1])).specs.at(-1);
  if (known !== undefined && known.symbol === symbol && known.tickSize === tickSize && known.lotSize === lotSize) return known;
  const [base, quote = ''] = symbol.split('/');
  return { symbol, base, quote, tickSize, lotSize, minOrderSize: lotSize, status: 'online' };
}

/**
 * The instruments a journal was recorded with, in their recorded order: the journal names
 * instruments by that index. Throws JOURNAL_NOT_FOUND when `dir` is not a journal directory
 * with its instrument list, JOURNAL_CORRUPT when the list is unreadable, and HISTORY_EXPIRED when
 * retention has deleted the journal's first records: the books cannot be rebuilt without them
 * (starting from a checkpoint instead is not done yet).
 */
export function journalInstruments(dir: string): Instrument[] {
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) throw new JournalError(JOURNAL_NOT_FOUND, `no journal directory at ${dir}`, dir);
  const first = listSegments(dir)[0]?.firstSequence ?? 1;
  if (first > 1) {
    throw new BookcastError(
      'HISTORY_EXPIRED',
      `the journal in ${dir} starts at record ${first}: the records before it were deleted (--journal-retention-hours), and a replay needs them all`,
    );
  }
  const file = join(dir, INSTRUMENTS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new JournalError(JOURNAL_NOT_FOUND, `${dir} has no ${INSTRUMENTS_FILE}: not a journal a bookcast server recorded`, file);
  }
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    list = null;
  }
  const valid =
    Array.isArray(list) &&
    list.length > 0 &&
    list.every((e) => Array.isArray(e) && e.length === 3 && typeof e[0] === 'string' && e[0] !== '' && DECIMAL.test(e[1]) && DECIMAL.test(e[2]));
  if (!valid) throw new JournalError(JOURNAL_CORRUPT, `${file} is not a list of [symbol, tick size, lot size]`, file);
  try {
    return (list as [string, string, string][]).map(([symbol, tick, lot], index) => toInstrument(specOf(symbol, tick, lot), index));
  } catch (error) {
    throw new JournalError(JOURNAL_CORRUPT, `${file}: ${(error as Error).message}`, file);
  }
}

/**
 * Hands the events to the pacer in journal order, holding its pacing back until the first event
 * at or after `from`; `onStart` hears when the replay proper starts (at the end, if none does).
 */
class PacedReplay implements JournalHandler {
  private started = false;

  constructor(
    private readonly pacer: ReplayPacer,
    private readonly from: number,
    private readonly onStart: () => void,
  ) {
    pacer.paced = false;
  }

  onEvent(_sequence: number, f: Float64Array, w: number): void {
    const timestamp = f[w + W_TIMESTAMP];
    if (!this.started && timestamp >= this.from) this.start();
    this.pacer.event(f[w + W_KIND], f[w + W_SYMBOL], f[w + W_SIDE], f[w + W_ORDER_ID], f[w + W_PRICE], f[w + W_SIZE], f[w + W_NEW_ORDER_ID], timestamp);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.pacer.paced = true;
    this.onStart();
  }
}

/** Replays the journal in `dir` through `pacer` (see the top of this file for the window). */
export function replayJournal(dir: string, from: number, until: number, pacer: ReplayPacer, onStart: () => void): void {
  const replay = new PacedReplay(pacer, from, onStart);
  new JournalReader(dir).read(replay, { untilTime: until });
  replay.start();
}

/** Every book of the journal in `dir` as it stood at `until` (µs), in its instruments' order. */
export function rebuildBooks(dir: string, until: number): { instruments: Instrument[]; books: JournalBooks } {
  const instruments = journalInstruments(dir);
  return { instruments, books: new JournalBooks(instruments).replay(new JournalReader(dir), until) };
}
