import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, InstrumentSpec, toInstrument } from '../../src/model/instruments';
import { JournalReader } from '../../src/journal/journal-reader';
import { ReferenceBooks } from '../helpers/reference-books';
import { startTestServer, waitFor } from '../helpers/test-server';

/** What the recording server runs: two built-in symbols and one generated one. */
export const SYMBOLS = ['BTC/USD', 'ETH/USD', 'SIM001/USD'];
const SIM001: InstrumentSpec = { symbol: 'SIM001/USD', base: 'SIM001', quote: 'USD', tickSize: '0.01', lotSize: '0.001', minOrderSize: '0.01', status: 'online' };

/**
 * Records a journal the way production does: a real server on the simulator, stopped once its
 * source has emitted `events` events (at `rate` a second). Returns the journal directory (with its instruments.json).
 */
export async function recordJournal(t: { teardown(fn: () => void): void }, events: number, rate = 20000): Promise<string> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-recorded-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const srv = await startTestServer(['--data-dir', dataDir, '--symbols', 'BTC/USD,ETH/USD', '--symbol-count', '1', '--rate', String(rate), '--workers', '1']);
  try {
    await waitFor(`${events} simulated events`, async () => (await srv.get('/api/v1/health')).body.source.events >= events);
  } finally {
    await srv.server.stop();
  }
  return path.join(dataDir, 'journal');
}

/** Every timestamp in the journal, in journal order. */
export function journalTimes(dir: string): number[] {
  const times: number[] = [];
  new JournalReader(dir).read({ onEvent: (_s, f, w) => void times.push(f[w + W_TIMESTAMP]) });
  return times;
}

export interface ExpectedBook {
  sequence: number;
  checksum: number;
  /** Top `depth` levels, as {"bids":[[price,size]…],"asks":[…]} with the symbol's decimals. */
  levels: string;
}

/**
 * The books of SYMBOLS at `until`, rebuilt from the journal with nothing but OrderBook and
 * applyEvent (independent of the replay code): what the replay must end with.
 */
export function expectedBooks(dir: string, until: number, depth: number): Map<string, ExpectedBook> {
  const instruments = [...DEFAULT_INSTRUMENTS.filter((s) => SYMBOLS.includes(s.symbol)), SIM001].map((s, i) => toInstrument(s, i));
  const books = new ReferenceBooks(instruments);
  new JournalReader(dir).read(
    { onEvent: (_s, f, w) => books.event(f[w + W_KIND], f[w + W_SYMBOL], f[w + W_SIDE], f[w + W_ORDER_ID], f[w + W_PRICE], f[w + W_SIZE], f[w + W_NEW_ORDER_ID]) },
    { untilTime: until },
  );
  const expected = new Map<string, ExpectedBook>();
  for (const ins of instruments) {
    const { sequence, bids, asks } = books.render(ins.index, depth);
    expected.set(ins.symbol, { sequence, checksum: books.books[ins.index].checksum(), levels: JSON.stringify({ bids, asks }) });
  }
  return expected;
}
