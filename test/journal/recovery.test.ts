import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, toInstrument } from '../../src/model/instruments';
import { JournalReader } from '../../src/journal/journal-reader';
import { freshDatabase } from '../helpers/postgres';
import { ReferenceBooks } from '../helpers/reference-books';
import { startServerProcess, stopServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/test-server';

const SYMBOLS = ['BTC/USD', 'ETH/USD', 'SOL/USD'];

const start = (args: string[]) => startServerProcess(['--symbols', SYMBOLS.join(','), ...args]);

async function book(http: string, symbol: string): Promise<{ sequence: number; timestamp: string; checksum: number; bids: string[][]; asks: string[][] }> {
  return (await (await fetch(`${http}/api/v1/market/${encodeURIComponent(symbol)}/orderbook?depth=50`)).json()) as any;
}

/** Books rebuilt from the journal alone, independently of the server, with per-symbol sequences. */
function replayJournal(dir: string, stopAt: Map<number, number>, untilTime = Infinity) {
  const instruments = DEFAULT_INSTRUMENTS.filter((s) => SYMBOLS.includes(s.symbol)).map((s, i) => toInstrument(s, i));
  const reference = new ReferenceBooks(instruments);
  const at = new Map<number, string>();
  let records = 0;
  const render = (i: number) => {
    const { bids, asks } = reference.render(i, 50);
    return JSON.stringify({ bids, asks });
  };
  new JournalReader(dir).read({
    onEvent(_seq: number, f: Float64Array, w: number) {
      records++;
      if (f[w + W_TIMESTAMP] > untilTime) return;
      const s = f[w + W_SYMBOL];
      reference.event(f[w + W_KIND], s, f[w + W_SIDE], f[w + W_ORDER_ID], f[w + W_PRICE], f[w + W_SIZE], f[w + W_NEW_ORDER_ID]);
      if (stopAt.get(s) === reference.sequences[s]) at.set(s, render(s));
    },
  });
  return { books: reference.books, sequences: reference.sequences, at, render, instruments, records };
}

async function health(http: string): Promise<any> {
  return (await fetch(`${http}/api/v1/health`)).json();
}

t.test('after kill -9 and a restart every book, sequence and checksum is exactly what the journal says', async (t) => {
  const db = await freshDatabase('recovery');
  if (db === null) {
    t.plan(0, 'PostgreSQL not reachable (set BOOKCAST_TEST_POSTGRES); this test kills the server mid-write, which only a real database survives');
    return;
  }
  t.teardown(() => db.drop());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-recovery-'));
  // A checkpoint every 2000 events (half a second at 4000 arrivals/s): restarts load one and
  // replay only the journal after it, and a kill may land in the middle of writing one.
  const common = ['--data-dir', dataDir, '--database-url', db.url, '--workers', '2', '--checkpoint-events', '2000'];

  for (let round = 0; round < 2; round++) {
    const first = await start([...common, '--rate', '4000', '--seed', String(round + 7)]);
    // Killed once this process has written checkpoints (a count, not a time: a busy machine
    // simulates fewer arrivals a second), the next one under way or not.
    await waitFor(`round ${round}: checkpoints written`, async () => (await health(first.http)).checkpoints.completed >= round + 1, 300_000);
    const before = new Map<string, Awaited<ReturnType<typeof book>>>();
    for (const s of SYMBOLS) before.set(s, await book(first.http, s));
    const running = await health(first.http);
    t.ok(running.checkpoints.completed > 0, `round ${round}: checkpoints were written (${running.checkpoints.completed})`);
    // From round 1 on the simulator resumes from a checkpoint: its own markets must match the
    // books exactly, or they would reject what it sends.
    t.same(running.workers.map((w: any) => w.rejected), [{}, {}], `round ${round}: the simulator's flow fits the books`);
    await stopServerProcess(first, 'SIGKILL');

    const second = await start([...common, '--source', 'none']);
    try {
      const stopAt = new Map(SYMBOLS.map((s, i) => [i, before.get(s)!.sequence]));
      const replay = replayJournal(path.join(dataDir, 'journal'), stopAt);
      const restarted = await health(second.http);
      const from = restarted.checkpoints.restored_from;
      const tail = restarted.source.restored_from_journal;
      t.ok(from > 0, `round ${round}: started from the checkpoint at journal record ${from}`);
      t.equal(from + tail, replay.records, `round ${round}: and replayed only the ${tail} records after it, of ${replay.records}`);
      t.ok(tail < replay.records, 'less than the whole journal');
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
        t.match(wrong, /CONFIG_INVALID: the (journal|checkpoints) .* recorded with other symbols/);
      }
    } finally {
      await stopServerProcess(second);
    }
  }
});
