import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ASK, BID } from '../../src/model/book-types';
import { createCheckpointDir, readSymbolCheckpoint, writeSymbolFile } from '../../src/engine/checkpoint-files';
import { INTERVAL_COUNT } from '../../src/model/intervals';
import { encodeSymbolState, restoreSymbolState } from '../../src/engine/symbol-checkpoint';
import type { SymbolState } from '../../src/engine/symbol-state';
import { events, feed, instrument, Owner } from './fixtures/symbol-flow';

/**
 * A symbol restored from its checkpoint and then fed the rest of the events must be
 * indistinguishable from one that was fed every event: the same messages byte for byte (diffs,
 * trades with their ids, tickers with 24 h figures, candles and their closes), the same rows for
 * storage, and at the end the same state (its own encoding, word for word).
 */

t.test('a restored symbol is indistinguishable from one that never stopped', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-checkpoint-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const seed of [1, 2, 3]) {
    const list = events(6000, seed);
    const cut = Math.floor(list.length / 2) + seed * 97;
    const live = new Owner();
    feed(live, list, 0, cut);
    live.drain();
    t.ok(live.state.book.orderCount > 0 && live.state.rolling24h.buckets > 10, `seed ${seed}: a book (${live.state.book.orderCount} orders) and a window (${live.state.rolling24h.buckets} buckets) to save`);

    // Through the real files: encoded, written durably, read back and verified.
    const checkpoint = await createCheckpointDir(dir, cut + seed);
    await writeSymbolFile(checkpoint, instrument.index, encodeSymbolState(live.state, cut + seed));
    const restored = new Owner();
    restoreSymbolState(restored.state, readSymbolCheckpoint({ path: checkpoint, sequence: cut + seed }, instrument.index));
    t.same(Array.from(encodeSymbolState(restored.state, 0)), Array.from(encodeSymbolState(live.state, 0)), `seed ${seed}: loaded state encodes as the saved one`);

    live.subscribeAll();
    restored.subscribeAll();
    let same = true;
    for (let i = cut; i < list.length && same; i += 100) {
      feed(live, list, i, Math.min(i + 100, list.length));
      feed(restored, list, i, Math.min(i + 100, list.length));
      const a = live.drain();
      const b = restored.drain();
      if (a.join() !== b.join()) {
        same = false;
        t.same(b, a, `seed ${seed}: messages after event ${i}`);
      }
    }
    t.ok(same, `seed ${seed}: every message and storage row after the checkpoint is byte-identical`);
    const [x, y] = [live.state, restored.state];
    t.equal(y.sequence, x.sequence, 'sequence');
    t.equal(y.checksum(), x.checksum(), 'checksum');
    t.equal(y.nextTradeId, x.nextTradeId, 'trade ids continue');
    t.ok(x.nextTradeId > 100, 'trades happened');
    t.same([y.rolling24h.volume, y.rolling24h.notional, y.rolling24h.count, y.rolling24h.high, y.rolling24h.low, y.rolling24h.open, y.rolling24h.last], [x.rolling24h.volume, x.rolling24h.notional, x.rolling24h.count, x.rolling24h.high, x.rolling24h.low, x.rolling24h.open, x.rolling24h.last], '24 h statistics');
    const orders = (s: SymbolState) => {
      const seen: number[] = [];
      for (const side of [BID, ASK]) s.book.forEachOrder(side, { visit: (id, price, size) => void seen.push(id, price, size) });
      return seen;
    };
    t.same(orders(y), orders(x), 'every order, in time priority');
    const candles = (s: SymbolState) => {
      const rows: number[][] = [];
      for (let i = 0; i < INTERVAL_COUNT; i++) s.candles.current(i, { push: (...row: number[]) => void rows.push(row) });
      return rows;
    };
    t.same(candles(y), candles(x), 'candles in progress');
    t.same(Array.from(encodeSymbolState(y, 0)), Array.from(encodeSymbolState(x, 0)), `seed ${seed}: the whole state, word for word`);
  }
});

t.test('a damaged or misplaced checkpoint is refused with CHECKPOINT_CORRUPT', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-checkpoint-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const owner = new Owner();
  feed(owner, events(500, 9), 0, 500);
  const checkpoint = await createCheckpointDir(dir, 500);
  await writeSymbolFile(checkpoint, 0, encodeSymbolState(owner.state, 500));
  const at = { path: checkpoint, sequence: 500 };
  t.ok(readSymbolCheckpoint(at, 0).length > 0, 'intact');
  t.throws(() => readSymbolCheckpoint({ path: checkpoint, sequence: 501 }, 0), { code: 'CHECKPOINT_CORRUPT', message: /journal record 500/ }, 'another record');
  t.throws(() => readSymbolCheckpoint(at, 1), { code: 'CHECKPOINT_CORRUPT' }, 'missing file');
  const file = path.join(checkpoint, 'symbol-00000.state');
  const bytes = new Uint8Array(readFileSync(file));
  bytes[bytes.length >> 1] ^= 0x10;
  writeFileSync(file, bytes);
  t.throws(() => readSymbolCheckpoint(at, 0), { code: 'CHECKPOINT_CORRUPT', message: /CRC mismatch/ }, 'a flipped bit');
  writeFileSync(file, bytes.subarray(0, bytes.length - 8));
  t.throws(() => readSymbolCheckpoint(at, 0), { code: 'CHECKPOINT_CORRUPT', message: /header says/ }, 'a truncated file');
});
