import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { applyEvent } from '../../src/engine/apply-event';
import { ASK, BID, OK } from '../../src/engine/book-types';
import { W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../../src/engine/events';
import { DEFAULT_INSTRUMENTS, InstrumentSpec, toInstrument } from '../../src/engine/instruments';
import { OrderBook } from '../../src/engine/order-book';
import { JournalReader } from '../../src/journal/journal-reader';
import { formatUnits } from '../../src/util/decimal';
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
  const books = instruments.map((i) => new OrderBook(i.tickUnits, i.lotUnits, null));
  const sequences = instruments.map(() => 0);
  new JournalReader(dir).read({
    onEvent(_s: number, f: Float64Array, w: number) {
      if (f[w + W_TIMESTAMP] > until) return;
      const s = f[w + W_SYMBOL];
      if (applyEvent(books[s], f[w + W_KIND], f[w + W_SIDE], f[w + W_ORDER_ID], f[w + W_PRICE], f[w + W_SIZE], f[w + W_NEW_ORDER_ID]) === OK) sequences[s]++;
    },
  });
  const expected = new Map<string, ExpectedBook>();
  for (const ins of instruments) {
    const book = books[ins.index];
    const side = (s: number) =>
      Array.from({ length: Math.min(depth, book.levelCount(s)) }, (_, p) => [formatUnits(book.levelPrice(s, p), ins.priceDecimals), formatUnits(book.levelSize(s, p), ins.sizeDecimals)]);
    expected.set(ins.symbol, { sequence: sequences[ins.index], checksum: book.checksum(), levels: JSON.stringify({ bids: side(BID), asks: side(ASK) }) });
  }
  return expected;
}
