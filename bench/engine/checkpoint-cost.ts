import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ASK, BID } from '../../src/model/book-types';
import { createCheckpointDir, readSymbolCheckpoint, writeSymbolFile } from '../../src/engine/checkpoint-files';
import { DiffEmitter } from '../../src/engine/diff-emitter';
import { toInstrument } from '../../src/model/instruments';
import { WINDOW_SECONDS } from '../../src/engine/rolling-24h';
import { OutWriter } from '../../src/engine/out-writer';
import { PersistWriter } from '../../src/engine/persist-writer';
import { encodeSymbolState, restoreSymbolState } from '../../src/engine/symbol-checkpoint';
import { SymbolState } from '../../src/engine/symbol-state';
import { SpscRing } from '../../src/ring/spsc-ring';
import { Random } from '../../src/util/random';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { runStandalone } from '../standalone';

/**
 * CheckpointCost: what checkpointing one symbol costs, by book size, each with a full 24 h
 * statistics window (a trade in every second: 86,401 buckets, the largest window there is).
 *
 * - encode: encodeSymbolState, the only part that runs on the book worker's thread, so the
 *   pause it puts into that worker's event loop (median and max of the repetitions);
 * - write: writeSymbolFile (temporary file, write, fdatasync, rename), on the main thread's
 *   async fs in production, here awaited alone;
 * - load: readSymbolCheckpoint (read, CRC, checks) plus restoreSymbolState into a fresh state,
 *   what start-up pays per symbol instead of replaying the journal.
 *
 * The budget is split over the sizes; each repeats until its share is spent (at least 3 times).
 */

const SIZES = [400, 10_000, 100_000, 300_000];
const START = Date.UTC(2024, 0, 1) * 1000;
const instrument = toInstrument({ symbol: 'BENCH/USD', base: 'BENCH', quote: 'USD', tickSize: '0.01', lotSize: '0.001', minOrderSize: '0.001', status: 'online' }, 0);

function freshState(): SymbolState {
  const emitter = new DiffEmitter(new MessageEncoder(), new OutWriter(new SpscRing(SpscRing.allocate(1 << 16))), new PersistWriter(new SpscRing(SpscRing.allocate(1 << 16))));
  return new SymbolState(instrument, emitter);
}

/** A book of `orders` orders over ~1000 levels a side, and a trade in every second of a day. */
function filledState(orders: number, random: Random): SymbolState {
  const s = freshState();
  s.book.setListener(null);
  for (let id = 1; id <= orders; id++) {
    const side = id % 2 === 0 ? BID : ASK;
    const ticks = 1 + random.int(1000);
    const price = side === BID ? 1_000_000 - ticks : 1_000_000 + ticks;
    s.book.add(id, side, price, 1 + random.int(100));
  }
  s.book.setListener(s.listener);
  for (let second = 0; second <= WINDOW_SECONDS; second++) s.rolling24h.addTrade(START + second * 1_000_000, 1_000_000 + random.int(100), 1 + random.int(10));
  s.sequence = orders + WINDOW_SECONDS;
  return s;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (ms: number): number => Math.round(ms * 1000) / 1000;

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), 'bookcast-bench-checkpoint-'));
  const random = new Random(7);
  const results = [];
  try {
    const checkpoint = await createCheckpointDir(dir, 1);
    for (const orders of SIZES) {
      const s = filledState(orders, random);
      const encode: number[] = [];
      const write: number[] = [];
      const load: number[] = [];
      let bytes = 0;
      const until = performance.now() + (opts.seconds * 1000) / SIZES.length;
      while (encode.length < 3 || performance.now() < until) {
        let t0 = performance.now();
        const words = encodeSymbolState(s, 1);
        encode.push(performance.now() - t0);
        bytes = words.byteLength;
        t0 = performance.now();
        await writeSymbolFile(checkpoint, 0, words);
        write.push(performance.now() - t0);
        t0 = performance.now();
        restoreSymbolState(freshState(), readSymbolCheckpoint({ path: checkpoint, sequence: 1 }, 0));
        load.push(performance.now() - t0);
      }
      results.push({
        orders,
        statsBuckets: s.rolling24h.buckets,
        bytes,
        repetitions: encode.length,
        encodeMs: { median: round(median(encode)), max: round(Math.max(...encode)) },
        writeMs: { median: round(median(write)), max: round(Math.max(...write)) },
        loadMs: { median: round(median(load)), max: round(Math.max(...load)) },
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { results };
}

if (require.main === module) runStandalone(run, 4);
