import { HEAD_OFFSET, HEADER_LENGTH, TAIL_OFFSET } from '../ring/ring-descriptor';

/**
 * How full an SPSC ring is, read from its shared buffer by a third thread (the front, at scrape
 * time): two Atomics loads of the cursors, never a write, so neither side is disturbed. The two
 * loads are not one snapshot; the difference is off by what moved between them, which is what
 * any depth gauge of a live queue means.
 */
export class RingOccupancy {
  private readonly words: Int32Array;
  readonly capacity: number;

  constructor(sab: SharedArrayBuffer) {
    this.words = new Int32Array(sab, 0, HEADER_LENGTH / 4);
    this.capacity = sab.byteLength - HEADER_LENGTH;
  }

  usedBytes(): number {
    const tail = Atomics.load(this.words, TAIL_OFFSET / 4);
    const head = Atomics.load(this.words, HEAD_OFFSET / 4);
    return Math.min(this.capacity, (tail - head) >>> 0);
  }
}
