/** The columns of a key that has no row yet. */
const NO_ROWS = new Float64Array(0);

/**
 * The last `capacity` rows of numbers per key (instrument, or instrument × interval), as one
 * circular Float64Array per key, so recording a row allocates nothing once the key has its
 * array. Recent trades and closed candles for REST live here.
 *
 * A key's array is made at its first row: memory follows the keys in use. Made up front, the
 * closed candles of 1,000 symbols (9 intervals × 1,000 candles × 10 words) took 720 MB at start,
 * most of it for symbols that might never trade.
 */
export class RowHistory {
  private readonly rows: Float64Array[];
  private readonly writtenCount: Float64Array;

  constructor(
    keys: number,
    readonly words: number,
    readonly capacity: number,
  ) {
    this.rows = new Array<Float64Array>(keys).fill(NO_ROWS);
    this.writtenCount = new Float64Array(keys);
  }

  /** Claims the next row of `key`; the caller writes `words` values from the returned index. */
  append(key: number): number {
    if (this.rows[key] === NO_ROWS) this.rows[key] = new Float64Array(this.capacity * this.words);
    return (this.writtenCount[key]++ % this.capacity) * this.words;
  }

  /** Rows ever appended to `key` (more than `capacity` means the oldest are gone). */
  written(key: number): number {
    return this.writtenCount[key];
  }

  /** The key's rows, at the word indexes append and newest give (empty before its first row). */
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
