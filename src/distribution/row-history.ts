/**
 * The last `capacity` rows of numbers per key (instrument, or instrument × interval), as one
 * circular Float64Array per key, so recording a row allocates nothing. Recent trades and closed
 * candles for REST live here.
 */
export class RowHistory {
  private readonly rows: Float64Array[];
  private readonly writtenCount: Float64Array;

  constructor(
    keys: number,
    readonly words: number,
    readonly capacity: number,
  ) {
    this.rows = Array.from({ length: keys }, () => new Float64Array(capacity * words));
    this.writtenCount = new Float64Array(keys);
  }

  /** Claims the next row of `key`; the caller writes `words` values from the returned index. */
  append(key: number): number {
    return (this.writtenCount[key]++ % this.capacity) * this.words;
  }

  /** Rows ever appended to `key` (more than `capacity` means the oldest are gone). */
  written(key: number): number {
    return this.writtenCount[key];
  }

  columns(key: number): Float64Array {
    return this.rows[key];
  }

  /** Word index of each stored row of `key`, newest first, at most `limit`. */
  newest(key: number, limit: number): number[] {
    const total = this.writtenCount[key];
    const n = Math.min(limit, total, this.capacity);
    const at: number[] = [];
    for (let k = 1; k <= n; k++) at.push(((total - k) % this.capacity) * this.words);
    return at;
  }
}
