/**
 * Order id → order slot, for the order book's hot path: an open-addressing hash table over two
 * typed arrays, so lookups neither allocate nor chase pointers. Measured against
 * Map<number, number> in the book benchmark it saves about a fifth of the time per event.
 *
 * Linear probing, kept at most half full. The home bucket is Fibonacci hashing (Knuth, TAOCP
 * vol. 3, 6.4) of both 32-bit halves of the id: the top bits of a multiply by 2^32/phi, so
 * sequential and strided ids alike spread out. Deletion shifts later entries of the probe run
 * back (Knuth's Algorithm R) instead of leaving tombstones, so probe runs never silt up under
 * the add/delete churn of an order book.
 */

const EMPTY = 0; // order ids are positive
const TWO_TO_MINUS_32 = 2 ** -32;

export const NO_SLOT = -1;

export class OrderIndex {
  private keys: Float64Array;
  private values: Int32Array;
  private mask: number;
  private shift: number;
  private count = 0;

  constructor(capacity: number) {
    let buckets = 16;
    while (buckets < capacity * 2) buckets *= 2;
    this.keys = new Float64Array(buckets);
    this.values = new Int32Array(buckets);
    this.mask = buckets - 1;
    this.shift = 32 - Math.log2(buckets);
  }

  get size(): number {
    return this.count;
  }

  private home(id: number): number {
    const low = id | 0; // ToInt32 keeps the low 32 bits of any safe integer
    const high = (id * TWO_TO_MINUS_32) | 0;
    return Math.imul(low ^ Math.imul(high, 0x85ebca6b), 0x9e3779b9) >>> this.shift;
  }

  /** The value stored for `id`, or NO_SLOT. */
  get(id: number): number {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = this.home(id); ; i = (i + 1) & mask) {
      const key = keys[i];
      if (key === EMPTY) return NO_SLOT; // first, so that id 0 is never found
      if (key === id) return this.values[i];
    }
  }

  has(id: number): boolean {
    return this.get(id) !== NO_SLOT;
  }

  /** Stores `value` (>= 0) for a positive `id`, replacing any previous value. */
  set(id: number, value: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    const mask = this.mask;
    for (let i = this.home(id); ; i = (i + 1) & mask) {
      const key = keys[i];
      if (key === EMPTY) {
        keys[i] = id;
        this.values[i] = value;
        this.count++;
        return;
      }
      if (key === id) {
        this.values[i] = value;
        return;
      }
    }
  }

  delete(id: number): boolean {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let hole = this.home(id);
    for (;;) {
      const key = keys[hole];
      if (key === EMPTY) return false;
      if (key === id) break;
      hole = (hole + 1) & mask;
    }
    // Pull back every later entry of the run that the hole now separates from its home.
    for (let i = (hole + 1) & mask; keys[i] !== EMPTY; i = (i + 1) & mask) {
      const key = keys[i];
      if (((i - this.home(key)) & mask) >= ((i - hole) & mask)) {
        keys[hole] = key;
        values[hole] = values[i];
        hole = i;
      }
    }
    keys[hole] = EMPTY;
    this.count--;
    return true;
  }

  clear(): void {
    if (this.count === 0) return;
    this.keys.fill(EMPTY);
    this.count = 0;
  }

  private grow(): void {
    const keys = this.keys;
    const values = this.values;
    const buckets = keys.length * 2;
    this.keys = new Float64Array(buckets);
    this.values = new Int32Array(buckets);
    this.mask = buckets - 1;
    this.shift--;
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) this.set(keys[i], values[i]);
  }
}
