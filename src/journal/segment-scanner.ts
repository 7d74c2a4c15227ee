import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { JOURNAL_CORRUPT, JournalError, ioError } from './journal-error';
import { R_EVENT, R_SEQUENCE, R_TIMESTAMP, RECORD_BYTES, RECORD_WORDS, recordIntact } from './journal-layout';
import { SegmentFile } from './journal-segments';

/** Receives journal records in sequence order. `f64` is reused: copy what must outlive the call. */
export interface JournalHandler {
  /** `offset` is the index in `f64` of the event's first word (src/engine/events.ts layout). */
  onEvent(sequence: number, f64: Float64Array, offset: number): void;
}

const CHUNK_RECORDS = 8192;

/**
 * Validates one segment record by record (length, CRC, sequence) and hands the records that pass
 * the filter to the handler. It decides where a segment's good bytes end:
 *
 * - a bad record with no intact record after it, in the last segment, is a torn tail: what a
 *   write cut short by a crash leaves. The scan stops there and reports the good length.
 * - a bad record followed by an intact one, or anywhere in a segment that is not the last, is
 *   damage to bytes that were once complete: JOURNAL_CORRUPT, naming file and offset. So is an
 *   intact record with the wrong sequence (a file from another journal, a renamed segment).
 *
 * Records are fixed-size, so "followed by an intact record" is checked on the 80-byte grid. The
 * rule has one cost: after a power loss (not a process crash), a file system may keep a later
 * page of an un-synced write and lose an earlier one, which then reads as corruption and needs an
 * operator's look. Those records were never reported durable; the alternative, silently
 * dropping intact records, would hide real damage.
 */
export class SegmentScanner {
  private readonly bytes: Uint8Array;
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;
  handler: JournalHandler | null = null;
  fromSequence = 0;
  fromTime = -Infinity;
  untilTime = Infinity;
  /** Records handed to the handler since the owner last reset it. */
  delivered = 0;

  constructor() {
    const buffer = new ArrayBuffer(CHUNK_RECORDS * RECORD_BYTES);
    this.bytes = new Uint8Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.i32 = new Int32Array(buffer);
  }

  /** Opens, scans and closes `segment`; returns the length of its good prefix in bytes. */
  scanFile(segment: SegmentFile, last: boolean): number {
    let fd: number;
    try {
      fd = openSync(segment.path, 'r');
    } catch (error) {
      throw ioError('open', segment.path, error);
    }
    try {
      return this.scan(fd, fstatSync(fd).size, segment, last);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Scans bytes start..size of the open segment `fd` (`start` on the record grid); returns the
   * length of its good prefix.
   */
  scan(fd: number, size: number, segment: SegmentFile, last: boolean, start = 0): number {
    const f64 = this.f64;
    const i32 = this.i32;
    let expected = segment.firstSequence + start / RECORD_BYTES;
    let position = start;
    while (position < size) {
      const got = this.readAt(fd, segment, position, Math.min(this.bytes.length, size - position));
      const whole = Math.floor(got / RECORD_BYTES);
      for (let r = 0; r < whole; r++) {
        const w = r * RECORD_WORDS;
        const at = position + r * RECORD_BYTES;
        if (!recordIntact(i32, w)) return this.badRecord(fd, size, segment, last, at);
        if (f64[w + R_SEQUENCE] !== expected) {
          throw new JournalError(
            JOURNAL_CORRUPT,
            `record at ${segment.path} offset ${at} has sequence ${f64[w + R_SEQUENCE]}, expected ${expected}`,
            segment.path,
            at,
          );
        }
        if (expected >= this.fromSequence && this.handler !== null) {
          const timestamp = f64[w + R_TIMESTAMP];
          if (timestamp >= this.fromTime && timestamp <= this.untilTime) {
            this.handler.onEvent(expected, f64, w + R_EVENT);
            this.delivered++;
          }
        }
        expected++;
      }
      position += whole * RECORD_BYTES;
      // A chunk is whole records, so a remainder is a partial record at the end of the file.
      if (whole * RECORD_BYTES < got) return this.badRecord(fd, size, segment, last, position);
    }
    return position;
  }

  private badRecord(fd: number, size: number, segment: SegmentFile, last: boolean, at: number): number {
    if (!last) {
      throw new JournalError(JOURNAL_CORRUPT, `damaged record in ${segment.path} at offset ${at}, and later segments exist`, segment.path, at);
    }
    const intact = this.findIntactAfter(fd, size, segment, at + RECORD_BYTES);
    if (intact >= 0) {
      throw new JournalError(
        JOURNAL_CORRUPT,
        `damaged record in ${segment.path} at offset ${at}, followed by an intact record at offset ${intact}`,
        segment.path,
        at,
      );
    }
    return at;
  }

  /** Offset of the first intact record at or after `from` on the record grid, or -1. */
  private findIntactAfter(fd: number, size: number, segment: SegmentFile, from: number): number {
    let position = from;
    while (position + RECORD_BYTES <= size) {
      const got = this.readAt(fd, segment, position, Math.min(this.bytes.length, size - position));
      const whole = Math.floor(got / RECORD_BYTES);
      for (let r = 0; r < whole; r++) if (recordIntact(this.i32, r * RECORD_WORDS)) return position + r * RECORD_BYTES;
      position += whole * RECORD_BYTES;
      if (whole === 0) break;
    }
    return -1;
  }

  /** Reads up to `length` bytes at `position` into the chunk; fewer only if the file is shorter now. */
  private readAt(fd: number, segment: SegmentFile, position: number, length: number): number {
    let got = 0;
    try {
      while (got < length) {
        const n = readSync(fd, this.bytes, got, length - got, position + got);
        if (n === 0) break;
        got += n;
      }
    } catch (error) {
      throw ioError('read', segment.path, error);
    }
    return got;
  }
}
