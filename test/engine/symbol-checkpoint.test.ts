import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { applyInput } from '../../src/engine/apply-input';
import { ASK, BID } from '../../src/model/book-types';
import { createCheckpointDir, readSymbolCheckpoint, writeSymbolFile } from '../../src/engine/checkpoint-files';
import { DiffEmitter } from '../../src/engine/diff-emitter';
import { L2_DEPTHS } from '../../src/model/depths';
import { EV_CLEAR, EV_REPLACE, EV_TRADE, EventSink } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, REFERENCE_PRICES, toInstrument } from '../../src/model/instruments';
import { INTERVAL_COUNT } from '../../src/model/intervals';
import { OutWriter } from '../../src/engine/out-writer';
import { PersistWriter } from '../../src/engine/persist-writer';
import { encodeSymbolState, restoreSymbolState } from '../../src/engine/symbol-checkpoint';
import { SymbolState } from '../../src/engine/symbol-state';
import { RecordHandler, SpscRing } from '../../src/ring/spsc-ring';
import { MarketSimulator } from '../../src/source/market-simulator';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { Random } from '../../src/util/random';

/**
 * A symbol restored from its checkpoint and then fed the rest of the events must be
 * indistinguishable from one that was fed every event: the same messages byte for byte (diffs,
 * trades with their ids, tickers with 24 h figures, candles and their closes), the same rows for
 * storage, and at the end the same state (its own encoding, word for word).
 */

const SECOND = 1_000_000;
const EPOCH_2024 = Date.UTC(2024, 0, 1) * 1000;
const instrument = toInstrument(DEFAULT_INSTRUMENTS[0], 0);

/** A symbol's state with a real emitter and real rings, whose records are collected as bytes. */
class Owner implements RecordHandler {
  readonly out = new SpscRing(SpscRing.allocate(1 << 24));
  readonly persist = new SpscRing(SpscRing.allocate(1 << 24));
  readonly emitter = new DiffEmitter(new MessageEncoder(), new OutWriter(this.out), new PersistWriter(this.persist));
  readonly state = new SymbolState(instrument, this.emitter);
  records: string[] = [];
  private reading: SpscRing = this.out;

  /** Every record published since the last call, as "type:hex". */
  drain(): string[] {
    for (const ring of [this.out, this.persist]) {
      ring.publish();
      this.reading = ring;
      while (ring.read(this, 1024) > 0);
    }
    const records = this.records;
    this.records = [];
    return records;
  }

  onRecord(type: number, offset: number, length: number): void {
    this.records.push(`${type}:${Buffer.from(this.reading.bytes.subarray(offset, offset + length)).toString('hex')}`);
  }

  /** Every stream active, continuing from the current sequence, as a subscription would start it. */
  subscribeAll(): void {
    const s = this.state;
    for (let d = 0; d < L2_DEPTHS.length; d++) {
      s.setL2Active(d, true);
      s.l2Last[d] = s.sequence;
    }
    s.l3Active = true;
    s.l3Last = s.sequence;
    s.tickerActive = true;
    s.candleActive.fill(1);
  }
}

type Event = [number, number, number, number, number, number, number, number];

/** Realistic flow from the simulator over ~2 days, with replaces, hidden trades, a reset and rejects mixed in. */
function events(count: number, seed: number): Event[] {
  const list: Event[] = [];
  const sink: EventSink = { event: (...e: Event) => void list.push(e) };
  const simulator = new MarketSimulator([instrument], REFERENCE_PRICES, seed, sink);
  const random = new Random(seed);
  let ts = EPOCH_2024;
  while (list.length < count) {
    // Mostly seconds apart, now and then hours: the 24 h window fills, rolls and empties.
    ts += random.next() < 0.002 ? random.int(12 * 3600) * SECOND : random.int(20) * SECOND + random.int(SECOND);
    simulator.arrival(ts);
    const r = random.next();
    const last = list[list.length - 1];
    if (r < 0.02) list.push([EV_TRADE, 0, random.int(2), 0, last[4], instrument.lotUnits * (1 + random.int(5)), 0, ts]);
    else if (r < 0.04) list.push([EV_REPLACE, 0, last[2], last[3], last[4] + instrument.tickUnits, last[5], last[3] + 1e6, ts]);
    else if (r < 0.045) list.push([EV_TRADE, 0, 5, 0, 1, 1, 0, ts]); // rejected: bad side
  }
  const at = Math.floor(count * 0.3);
  list.splice(at, 0, [EV_CLEAR, 0, 0, 0, 0, 0, 0, list[at][7]]);
  return list;
}

function feed(owner: Owner, list: Event[], from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const [kind, , side, orderId, price, size, newOrderId, ts] = list[i];
    applyInput(owner.state, owner.emitter, kind, side, orderId, price, size, newOrderId, ts);
    // The worker's once-a-second tick: trades leave the window, candles close on the clock.
    if (i % 50 === 0) {
      owner.state.rolling24h.advance(ts + 3 * SECOND);
      owner.emitter.closeCandles(owner.state, ts + 2 * SECOND, ts + 3 * SECOND);
    }
  }
}

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
