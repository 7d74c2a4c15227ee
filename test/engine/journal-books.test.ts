import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { applyInput } from '../../src/engine/apply-input';
import { completeCheckpoint, createCheckpointDir, listCheckpoints, writeSymbolFile } from '../../src/engine/checkpoint-files';
import { DiffEmitter } from '../../src/engine/diff-emitter';
import { JournalBooks } from '../../src/engine/journal-books';
import { OutWriter } from '../../src/engine/out-writer';
import { PersistWriter } from '../../src/engine/persist-writer';
import { encodeSymbolState } from '../../src/engine/symbol-checkpoint';
import { SymbolState } from '../../src/engine/symbol-state';
import { JournalReader } from '../../src/journal/journal-reader';
import { JournalTimeIndex } from '../../src/journal/journal-time-index';
import { JournalWriter } from '../../src/journal/journal-writer';
import { EV_CLEAR, EV_TRADE, EventSink } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, REFERENCE_PRICES, toInstrument } from '../../src/model/instruments';
import { SpscRing } from '../../src/ring/spsc-ring';
import { MarketSimulator } from '../../src/source/market-simulator';
import { MessageEncoder } from '../../src/wire/message-encoder';

/**
 * The books JournalBooks rebuilds are the books the engine holds: the same journal records fed to
 * book workers' states through applyInput give the same books (checksums), sequences and last
 * timestamps, whether the rebuild starts empty or from a checkpoint, reads through the reader or
 * the time index, rebuilds every instrument or one. The records hold a clear and rejects.
 */

const instruments = DEFAULT_INSTRUMENTS.slice(0, 2).map((s, i) => toInstrument(s, i));
type Event = [number, number, number, number, number, number, number, number];

function events(count: number): Event[] {
  const list: Event[] = [];
  const sink: EventSink = { event: (...e: Event) => void list.push(e) };
  const simulator = new MarketSimulator(instruments, REFERENCE_PRICES, 7, sink);
  let ts = 1_700_000_000_000_000;
  while (list.length < count) simulator.arrival((ts += 1000));
  list.push([EV_TRADE, 0, 5, 0, 1, 1, 0, (ts += 1000)]); // rejected: bad side
  // The clear lands between the checkpoint and the end, between two arrivals, at a time of its own.
  const at = arrivalAfter(list, Math.floor(count * 0.7));
  list.splice(at, 0, [EV_CLEAR, 0, 0, 0, 0, 0, 0, list[at - 1][7] + 1]);
  return list;
}

/**
 * The first record at or after `k` that starts an arrival (or the end): an until-time is a
 * filter, so the records up to it are a prefix of the journal only at such a boundary.
 */
function arrivalAfter(list: Event[], k: number): number {
  while (k < list.length && list[k][7] === list[k - 1][7]) k++;
  return k;
}

/** Every instrument's state in a book worker, fed through the engine's own path. */
function engineStates(): { states: SymbolState[]; feed(e: Event): void } {
  const emitter = new DiffEmitter(new MessageEncoder(), new OutWriter(new SpscRing(SpscRing.allocate(1 << 22))), new PersistWriter(new SpscRing(SpscRing.allocate(1 << 22))));
  const states = instruments.map((i) => new SymbolState(i, emitter));
  return {
    states,
    feed: ([kind, symbol, side, orderId, price, size, newOrderId, ts]) => void applyInput(states[symbol], emitter, kind, side, orderId, price, size, newOrderId, ts),
  };
}

t.test('from empty or from a checkpoint, JournalBooks rebuilds the books the engine holds', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'bookcast-journal-books-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const journalDir = path.join(root, 'journal');
  const checkpointDir = path.join(root, 'checkpoints');
  const list = events(4000);
  const journal = JournalWriter.open(journalDir, { fsyncIntervalMs: 1000 });
  for (const e of list) journal.append(Float64Array.from(e), 0);
  journal.sync();
  journal.close();

  const cut = arrivalAfter(list, Math.floor(list.length / 2));
  const engine = engineStates();
  for (let i = 0; i < cut; i++) engine.feed(list[i]);
  const written = await createCheckpointDir(checkpointDir, cut);
  for (const s of engine.states) await writeSymbolFile(written, s.instrument.index, encodeSymbolState(s, cut));
  await completeCheckpoint(checkpointDir, written, { sequence: cut, createdAt: Date.now(), maxTimestamp: list[cut - 1][7], instruments });
  const checkpoint = listCheckpoints(checkpointDir).complete[0];

  const clearAt = list.findIndex((e) => e[0] === EV_CLEAR);
  const index = new JournalTimeIndex(journalDir);
  let fed = cut;
  for (const upTo of [cut, clearAt + 1, arrivalAfter(list, clearAt + 300), list.length]) {
    while (fed < upTo) engine.feed(list[fed++]);
    const until = list[upTo - 1][7];
    const rebuilt = {
      'from empty': new JournalBooks(instruments).replay(new JournalReader(journalDir), until),
      'from the checkpoint': new JournalBooks(instruments).startFrom(checkpoint).replay(new JournalReader(journalDir), until),
      'from the checkpoint, indexed': new JournalBooks(instruments).startFrom(checkpoint).replay(index, until),
      'symbol 1 alone': new JournalBooks([null, instruments[1]]).startFrom(checkpoint).replay(index, until),
    };
    for (const [how, books] of Object.entries(rebuilt)) {
      for (const s of engine.states) {
        const i = s.instrument.index;
        if (books.books[i] === null) continue;
        t.same(
          { checksum: books.books[i]!.checksum(), orders: books.books[i]!.orderCount, sequence: books.sequences[i], timestamp: books.timestamps[i] },
          { checksum: s.book.checksum(), orders: s.book.orderCount, sequence: s.sequence, timestamp: s.timestamp },
          `record ${upTo}, ${s.instrument.symbol}, ${how}`,
        );
      }
    }
    t.equal(rebuilt['symbol 1 alone'].books[0], null, 'an instrument not asked for is not rebuilt');
    if (upTo === clearAt + 1) t.equal(rebuilt['from empty'].books[0]!.orderCount, 0, 'the clear empties the book');
  }
  t.ok(engine.states[0].sequence > 0 && engine.states[1].book.orderCount > 0, 'the flow made books');
});
