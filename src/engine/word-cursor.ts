import { BookcastError } from '../errors';

/**
 * The checkpoint format the save() methods write (symbol-checkpoint.ts's version). Format 2 added
 * the exact-sum rests of candles and 24 h volume; load() still reads format 1.
 */
export const CHECKPOINT_FORMAT = 2;

/**
 * A position in a run of float64 words: how a book worker's state is written to a checkpoint
 * and read back (symbol-checkpoint.ts). Every value the engine keeps is a float64 or fits one
 * exactly (ids, units, counts, flags, ±Infinity clocks), so state needs no per-field encoding:
 * one typed-array store or load per value, and columns copied as they are.
 */
export class WordCursor {
  constructor(
    readonly words: Float64Array,
    public at = 0,
  ) {}

  put(value: number): void {
    this.words[this.at++] = value;
  }

  /** The next word; a read past the end means the length fields lie (checked, not trusted). */
  take(): number {
    if (this.at >= this.words.length) throw new BookcastError('CHECKPOINT_CORRUPT', `checkpoint state ends at word ${this.at}, before its content`);
    return this.words[this.at++];
  }
}
