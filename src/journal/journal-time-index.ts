import { closeSync, fstatSync, openSync } from 'node:fs';
import { W_TIMESTAMP } from '../model/events';
import { JOURNAL_CORRUPT, JournalError, ioError } from './journal-error';
import { RECORD_BYTES } from './journal-layout';
import { listSegments, SegmentFile } from './journal-segments';
import { JournalHandler, SegmentScanner } from './segment-scanner';

/** Records per index block: 80 KiB of journal, so a seek reads at most that much it did not need. */
export const BLOCK_RECORDS = 1024;

/** What the index knows of one segment: how much of it is checked, and each block's time range. */
interface SegmentTimes {
  firstSequence: number;
  /** Good bytes indexed so far (the live segment grows; the next use indexes the rest). */
  indexedBytes: number;
  /** Per block of BLOCK_RECORDS records: the least and the greatest event timestamp (µs). */
  minTime: number[];
  maxTime: number[];
}

/**
 * A sparse time index over a journal directory, so that "the events up to time T after sequence
 * S" reads only the blocks that can hold one, instead of every record after S (what made each
 * `orderbook?at=` a whole-journal scan: 0.3 s on 1.7 M events).
 *
 * Timestamps are the sources' and need not grow with the sequence (journal-reader.ts), so this
 * is not a binary search: a block is skipped when its *least* timestamp is after T, which keeps
 * the old filter's answer exactly (an early-stamped event after later ones is still found) and,
 * on a feed whose times mostly grow, skips everything after T.
 *
 * Built lazily and kept in memory by its owner (the heavy-work thread): each segment is read and
 * CRC-checked once, the growing live segment from where its index ended; segments retention
 * deleted are forgotten. Memory: two numbers per 1024 records (~13 KB per million events).
 */
export class JournalTimeIndex implements JournalHandler {
  private readonly segments = new Map<string, SegmentTimes>();
  private readonly scanner = new SegmentScanner();
  private building: SegmentTimes | null = null;
  /** Journal records read by `read` since the start (for measurements and tests). */
  recordsRead = 0;

  constructor(private readonly dir: string) {}

  onEvent(sequence: number, f64: Float64Array, offset: number): void {
    const b = this.building!;
    const block = Math.floor((sequence - b.firstSequence) / BLOCK_RECORDS);
    const time = f64[offset + W_TIMESTAMP];
    if (block === b.minTime.length) {
      b.minTime.push(time);
      b.maxTime.push(time);
    } else {
      if (time < b.minTime[block]) b.minTime[block] = time;
      if (time > b.maxTime[block]) b.maxTime[block] = time;
    }
  }

  /**
   * Hands `handler` every record with sequence >= fromSequence and timestamp <= untilTime, in
   * sequence order: the same records JournalReader.read({fromSequence, untilTime}) hands, reading
   * only the blocks whose least timestamp is <= untilTime. Returns how many it handed.
   */
  read(handler: JournalHandler, fromSequence: number, untilTime: number): number {
    const segments = this.refresh();
    const scanner = this.scanner;
    scanner.handler = handler;
    scanner.fromSequence = fromSequence;
    scanner.fromTime = -Infinity;
    scanner.untilTime = untilTime;
    scanner.delivered = 0;
    try {
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i];
        const times = this.segments.get(segment.path)!;
        const records = times.indexedBytes / RECORD_BYTES;
        if (times.firstSequence + records <= fromSequence) continue;
        const firstBlock = Math.max(0, Math.floor((fromSequence - times.firstSequence) / BLOCK_RECORDS));
        let fd = -1;
        try {
          for (let block = firstBlock; block < times.minTime.length; block++) {
            if (times.minTime[block] > untilTime) continue;
            // A run of wanted blocks is one scan.
            let end = block + 1;
            while (end < times.minTime.length && times.minTime[end] <= untilTime) end++;
            if (fd < 0) fd = open(segment);
            const from = block * BLOCK_RECORDS * RECORD_BYTES;
            const to = Math.min(end * BLOCK_RECORDS * RECORD_BYTES, times.indexedBytes);
            scanner.scan(fd, to, segment, false, from);
            this.recordsRead += (to - from) / RECORD_BYTES;
            block = end - 1;
          }
        } finally {
          if (fd >= 0) closeSync(fd);
        }
      }
      return scanner.delivered;
    } finally {
      scanner.handler = null;
    }
  }

  /** Indexes what is new since the last use (new segments, the live one's growth); forgets deleted ones. */
  private refresh(): SegmentFile[] {
    const segments = listSegments(this.dir);
    const listed = new Set(segments.map((s) => s.path));
    for (const path of this.segments.keys()) if (!listed.has(path)) this.segments.delete(path);
    const scanner = this.scanner;
    scanner.handler = this;
    scanner.fromSequence = 0;
    scanner.fromTime = -Infinity;
    scanner.untilTime = Infinity;
    try {
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i];
        const last = i === segments.length - 1;
        let times = this.segments.get(segment.path);
        if (times === undefined) {
          times = { firstSequence: segment.firstSequence, indexedBytes: 0, minTime: [], maxTime: [] };
          this.segments.set(segment.path, times);
        }
        const fd = open(segment);
        try {
          const size = fstatSync(fd).size;
          if (size > times.indexedBytes) {
            this.building = times;
            times.indexedBytes = scanner.scan(fd, size, segment, last, times.indexedBytes);
          }
        } finally {
          closeSync(fd);
          this.building = null;
        }
        if (!last && segment.firstSequence + times.indexedBytes / RECORD_BYTES !== segments[i + 1].firstSequence) {
          throw new JournalError(
            JOURNAL_CORRUPT,
            `segment ${segment.path} ends at sequence ${segment.firstSequence + times.indexedBytes / RECORD_BYTES - 1}, but ${segments[i + 1].name} follows`,
            segment.path,
            times.indexedBytes,
          );
        }
      }
      return segments;
    } finally {
      scanner.handler = null;
    }
  }
}

function open(segment: SegmentFile): number {
  try {
    return openSync(segment.path, 'r');
  } catch (error) {
    throw ioError('open', segment.path, error);
  }
}
