import { CACHE_LINE } from './ring-descriptor';
import { ERR_SEQLOCK_LAYOUT, ERR_SEQLOCK_WORDS, RingError } from './ring-error';

/**
 * A table of fixed-size float64 records in a SharedArrayBuffer, one writer thread, any number
 * of reader threads, guarded per slot by a sequence lock (Lameter, "Effective synchronization
 * on Linux/NUMA systems", 2005; Boehm, "Can seqlocks get along with programming language
 * memory models?", 2012). Readers never block the writer and never write a word the writer or
 * another reader touches.
 *
 *   slot s at byte s * stride, stride = 8 + 8 * wordsPerSlot rounded up to 64:
 *   +0  version int32   even when stable, odd while the writer is inside beginWrite/endWrite
 *   +4  unused
 *   +8  wordsPerSlot float64 words   (base(slot) is the index of the first in f64)
 *
 * Slots are cache-line aligned relative to each other, so each slot's version word sits on its
 * own line and a write to one slot never invalidates a reader of another.
 *
 * Why this is safe in JavaScript. The version is read and written with Atomics, which are
 * sequentially consistent; the data words are plain Float64Array accesses and may race with the
 * writer, but a racing read is harmless here: ECMAScript guarantees it returns bytes that some
 * write stored (a float64 may be torn into bytes from two writes, never invented), and the reader
 * keeps a copy only if the version was even before the copy and unchanged after it, so any copy
 * that overlapped a write is discarded and retried. What the language model does not promise by
 * itself is that plain accesses stay between the Atomics (it has no fences, and a plain access may
 * move across an SC atomic that does not synchronize with it), so that part is argued from what
 * V8 emits, on the two 64-bit targets the uWS binaries exist for (x64 and arm64; the server refuses to
 * start on others, see memory-order.ts):
 *
 *   x64    Atomics.store is XCHG (a full fence) and Atomics.load a plain MOV, which TSO never
 *          reorders with other loads: the bare protocol is already ordered.
 *   arm64  Atomics.store is STLR (release: earlier accesses stay before it) and Atomics.load is
 *          LDAR (acquire: later accesses stay after it), and an LDAR is never reordered before an
 *          earlier STLR. Release and acquire are one-way, so two gaps remain, each closed by one
 *          extra Atomic (the Linux seqlock's smp_wmb and smp_rmb):
 *          - writer: data stores may rise above the odd version's STLR. beginWrite re-reads the
 *            version with LDAR after storing it: STLR < LDAR < the data stores.
 *          - reader: data loads may sink below the second version LDAR. read() stores to a
 *            thread-private word with STLR between the copy and the re-read: the loads < STLR < LDAR.
 *          endWrite's STLR already keeps the data stores before the even version, and the
 *          reader's first LDAR keeps the copy after it.
 *
 * Measured (bench/ring/seqlock-read.ts): the two extra Atomics cost about one Atomics call each
 * (~7.5 ns on Node 20, which calls them instead of inlining them) per read and per write; see the
 * README's figures.
 */
export class SeqlockTable {
  static byteLength(slots: number, wordsPerSlot: number): number {
    checkShape(slots, wordsPerSlot);
    return slots * strideOf(wordsPerSlot);
  }

  readonly f64: Float64Array;
  readonly slots: number;
  readonly wordsPerSlot: number;
  private readonly i32: Int32Array;
  /** Slot stride in bytes. */
  private readonly stride: number;

  constructor(sab: SharedArrayBuffer, slots: number, wordsPerSlot: number) {
    checkShape(slots, wordsPerSlot);
    const stride = strideOf(wordsPerSlot);
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < slots * stride) {
      throw new RingError(ERR_SEQLOCK_LAYOUT, `a seqlock table of ${slots} x ${wordsPerSlot} words needs a SharedArrayBuffer of ${slots * stride} bytes`);
    }
    this.f64 = new Float64Array(sab, 0, (slots * stride) >> 3);
    this.i32 = new Int32Array(sab, 0, (slots * stride) >> 2);
    this.slots = slots;
    this.wordsPerSlot = wordsPerSlot;
    this.stride = stride;
  }

  /** Index in f64 of the slot's first data word. */
  base(slot: number): number {
    return (slot * this.stride + 8) >> 3;
  }

  /** Writer: the slot's version becomes odd; readers retry until endWrite. */
  beginWrite(slot: number): void {
    const v = (slot * this.stride) >> 2;
    Atomics.store(this.i32, v, (this.i32[v] + 1) | 0);
    // The store-load pair keeps the data stores after the odd version (arm64; see above).
    Atomics.load(this.i32, v);
  }

  /** Writer: the slot's version becomes even again, and different from before beginWrite. */
  endWrite(slot: number): void {
    const v = (slot * this.stride) >> 2;
    Atomics.store(this.i32, v, (this.i32[v] + 1) | 0);
  }

  /**
   * Reader: copies the slot's first `words` words into dst as one consistent record and
   * returns the (even) version it belongs to. Retries while a write is in progress; after
   * SPIN_RETRIES it sleeps YIELD_MS per retry, since by then the writer's thread has most
   * likely been descheduled mid-write and spinning would only steal its core.
   */
  read(slot: number, dst: Float64Array, words: number): number {
    if (words > this.wordsPerSlot || words > dst.length) {
      throw new RingError(ERR_SEQLOCK_WORDS, `cannot read ${words} words: slot has ${this.wordsPerSlot}, destination ${dst.length}`);
    }
    const i32 = this.i32;
    const f64 = this.f64;
    const v = (slot * this.stride) >> 2;
    const base = (v >> 1) + 1;
    for (let attempt = 0; ; attempt++) {
      const before = Atomics.load(i32, v);
      if ((before & 1) === 0) {
        for (let w = 0; w < words; w++) dst[w] = f64[base + w];
        // The release store keeps the copy's loads before the re-read (arm64; see above).
        Atomics.store(fence, 0, 0);
        if (Atomics.load(i32, v) === before) return before;
      }
      if (attempt >= SPIN_RETRIES) Atomics.wait(sleeper, 0, 0, YIELD_MS);
    }
  }

  /** Reader: one word of the slot as read() would copy it, without a copy (a cache's validity check). */
  readWord(slot: number, word: number): number {
    if (word < 0 || word >= this.wordsPerSlot) throw new RingError(ERR_SEQLOCK_WORDS, `no word ${word}: slot has ${this.wordsPerSlot}`);
    const i32 = this.i32;
    const v = (slot * this.stride) >> 2;
    const at = (v >> 1) + 1 + word;
    for (let attempt = 0; ; attempt++) {
      const before = Atomics.load(i32, v);
      if ((before & 1) === 0) {
        const value = this.f64[at];
        Atomics.store(fence, 0, 0);
        if (Atomics.load(i32, v) === before) return value;
      }
      if (attempt >= SPIN_RETRIES) Atomics.wait(sleeper, 0, 0, YIELD_MS);
    }
  }
}

const SPIN_RETRIES = 100;
const YIELD_MS = 0.05;
/** Never notified: Atomics.wait on it is a sleep. One per thread (module instance). */
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Stored to only as a fence between a reader's copy and its version re-read. One per thread. */
const fence = new Int32Array(new SharedArrayBuffer(4));

function strideOf(wordsPerSlot: number): number {
  return Math.ceil((8 + 8 * wordsPerSlot) / CACHE_LINE) * CACHE_LINE;
}

function checkShape(slots: number, wordsPerSlot: number): void {
  if (!Number.isInteger(slots) || slots < 1 || !Number.isInteger(wordsPerSlot) || wordsPerSlot < 1 || slots * strideOf(wordsPerSlot) > 2 ** 31) {
    throw new RingError(ERR_SEQLOCK_LAYOUT, `seqlock table needs integer slots >= 1 and wordsPerSlot >= 1 within 2 GiB, got ${slots} x ${wordsPerSlot}`);
  }
}
