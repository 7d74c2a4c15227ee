import t from 'tap';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { applyEvent } from '../../src/engine/apply-event';
import { ASK, BID, OK } from '../../src/engine/book-types';
import { EV_CLEAR, W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL } from '../../src/engine/events';
import { DEFAULT_INSTRUMENTS, toInstrument } from '../../src/engine/instruments';
import { OrderBook } from '../../src/engine/order-book';
import { JournalReader } from '../../src/journal/journal-reader';
import { formatUnits } from '../../src/util/decimal';
import { freshDatabase } from '../helpers/postgres';

const main = path.join(__dirname, '..', '..', 'src', 'main.js');
const SYMBOLS = ['BTC/USD', 'ETH/USD', 'SOL/USD'];

interface Running {
  child: ChildProcess;
  http: string;
}

function start(args: string[]): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, '--port', '0', '--symbols', SYMBOLS.join(','), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /REST:\s+(http:\/\/[^/]+)/.exec(out);
      if (m) resolve({ child, http: m[1] });
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${err}`)));
  });
}

async function book(http: string, symbol: string): Promise<{ sequence: number; timestamp: string; checksum: number; bids: string[][]; asks: string[][] }> {
  return (await (await fetch(`${http}/api/v1/market/${encodeURIComponent(symbol)}/orderbook?depth=50`)).json()) as any;
}

/** Books rebuilt from the journal alone, independently of the server, with per-symbol sequences. */
function replayJournal(dir: string, stopAt: Map<number, number>, untilTime = Infinity) {
  const instruments = DEFAULT_INSTRUMENTS.filter((s) => SYMBOLS.includes(s.symbol)).map((s, i) => toInstrument(s, i));
  const books = instruments.map((i) => new OrderBook(i.tickUnits, i.lotUnits, null));
  const sequences = instruments.map(() => 0);
  const at = new Map<number, string>();
  const render = (i: number) => {
    const ins = instruments[i];
    const side = (s: number) => Array.from({ length: Math.min(50, books[i].levelCount(s)) }, (_, p) => [formatUnits(books[i].levelPrice(s, p), ins.priceDecimals), formatUnits(books[i].levelSize(s, p), ins.sizeDecimals)]);
    return JSON.stringify({ bids: side(BID), asks: side(ASK) });
  };
  new JournalReader(dir).read({
    onEvent(_seq: number, f: Float64Array, w: number) {
      if (f[w + 7] > untilTime) return;
      const s = f[w + W_SYMBOL];
      const ok = f[w + W_KIND] === EV_CLEAR ? (books[s].clear(), OK) : applyEvent(books[s], f[w + W_KIND], f[w + W_SIDE], f[w + W_ORDER_ID], f[w + W_PRICE], f[w + W_SIZE], f[w + W_NEW_ORDER_ID]);
      if (ok === OK) sequences[s]++;
      if (stopAt.get(s) === sequences[s]) at.set(s, render(s));
    },
  });
  return { books, sequences, at, render, instruments };
}

t.test('after kill -9 and a restart every book, sequence and checksum is exactly what the journal says', async (t) => {
  const db = await freshDatabase('recovery');
  if (db === null) {
    t.plan(0, 'PostgreSQL not reachable (set BOOKCAST_TEST_POSTGRES); this test kills the server mid-write, which only a real database survives');
    return;
  }
  t.teardown(() => db.drop());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-recovery-'));
  const common = ['--data-dir', dataDir, '--database-url', db.url, '--workers', '2'];

  for (let round = 0; round < 2; round++) {
    const first = await start([...common, '--rate', '4000', '--seed', String(round + 7)]);
    await new Promise((r) => setTimeout(r, 1500 + round * 700));
    const before = new Map<string, Awaited<ReturnType<typeof book>>>();
    for (const s of SYMBOLS) before.set(s, await book(first.http, s));
    const killed = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    await killed;

    const second = await start([...common, '--source', 'none']);
    try {
      const stopAt = new Map(SYMBOLS.map((s, i) => [i, before.get(s)!.sequence]));
      const replay = replayJournal(path.join(dataDir, 'journal'), stopAt);
      for (const [i, s] of SYMBOLS.entries()) {
        const after = await book(second.http, s);
        t.equal(after.sequence, replay.sequences[i], `round ${round} ${s}: sequence restored (${after.sequence})`);
        t.equal(JSON.stringify({ bids: after.bids, asks: after.asks }), replay.render(i), `round ${round} ${s}: book restored`);
        t.equal(after.checksum, replay.books[i].checksum(), `round ${round} ${s}: checksum`);
        const b = before.get(s)!;
        t.ok(after.sequence >= b.sequence, 'nothing the books had applied before the kill is missing');
        t.equal(replay.at.get(i) ?? null, JSON.stringify({ bids: b.bids, asks: b.asks }), `round ${round} ${s}: the journal reproduces the book seen before the kill`);
      }
      // The book at a past time, rebuilt by the server from the journal, equals our own replay.
      const at = before.get('ETH/USD')!.timestamp as unknown as string;
      const past = (await (await fetch(`${second.http}/api/v1/market/ETH-USD/orderbook?depth=50&at=${encodeURIComponent(at)}`)).json()) as any;
      const cut = replayJournal(path.join(dataDir, 'journal'), new Map(), Date.parse(at.slice(0, 23) + 'Z') * 1000 + Number(at.slice(23, 26)));
      t.equal(JSON.stringify({ bids: past.bids, asks: past.asks }), cut.render(1), `round ${round}: orderbook?at= equals the journal replayed to that time`);
      t.equal(past.sequence, cut.sequences[1]);
      if (round === 1) {
        // The same journal with another symbol list would replay into the wrong books: refused.
        const wrong = await start(['--data-dir', dataDir, '--database-url', db.url, '--symbols', 'XRP/USD', '--source', 'none']).then(
          () => 'started',
          (err: Error) => err.message,
        );
        t.match(wrong, /CONFIG_INVALID: the journal .* was recorded with other symbols/);
      }
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
  }
});
