import { statSync } from 'node:fs';
import { JOURNAL_CORRUPT, JOURNAL_NOT_FOUND, JournalError } from './journal-error';
import { RECORD_BYTES } from './journal-layout';
import { listSegments } from './journal-segments';
import { JournalHandler, SegmentScanner } from './segment-scanner';

export type { JournalHandler } from './segment-scanner';

export interface JournalReadOptions {
  /** First journal sequence to deliver. */
  fromSequence?: number;
  /** Deliver only events whose timestamp (word 7, µs since the epoch) is >= fromTime ... */
  fromTime?: number;
  /** ... and <= untilTime. */
  untilTime?: number;
}

/**
 * Replays a journal directory in sequence order, across segments, validating every record it
 * reads. It stops without error at a torn tail (what a crash, or a writer still appending,
 * leaves at the end of the last segment) and throws JOURNAL_CORRUPT for any other damage.
 *
 * Timestamps are the sources' and need not grow with the sequence, so the time window is a
 * filter on every record, not a seek; fromSequence skips whole segments by their names.
 * A writer may be appending meanwhile: a read sees the segments and sizes of when it reaches them.
 */
export class JournalReader {
  readonly dir: string;
  private readonly scanner: SegmentScanner;

  constructor(dir: string) {
    let isDirectory = false;
    try {
      isDirectory = statSync(dir).isDirectory();
    } catch {
      // reported below
    }
    if (!isDirectory) throw new JournalError(JOURNAL_NOT_FOUND, `no journal directory at ${dir}`, dir);
    this.dir = dir;
    this.scanner = new SegmentScanner();
  }

  /** Hands every selected event to `handler`; returns how many it handed. */
  read(handler: JournalHandler, opts: JournalReadOptions = {}): number {
    const scanner = this.scanner;
    scanner.handler = handler;
    scanner.fromSequence = opts.fromSequence ?? 0;
    scanner.fromTime = opts.fromTime ?? -Infinity;
    scanner.untilTime = opts.untilTime ?? Infinity;
    scanner.delivered = 0;
    try {
      const segments = listSegments(this.dir);
      for (let i = 0; i < segments.length; i++) {
        const last = i === segments.length - 1;
        if (!last && segments[i + 1].firstSequence <= scanner.fromSequence) continue;
        const segment = segments[i];
        const good = scanner.scanFile(segment, last);
        if (!last && segment.firstSequence + good / RECORD_BYTES !== segments[i + 1].firstSequence) {
          throw new JournalError(
            JOURNAL_CORRUPT,
            `segment ${segment.path} ends at sequence ${segment.firstSequence + good / RECORD_BYTES - 1}, but ${segments[i + 1].name} follows`,
            segment.path,
            good,
          );
        }
      }
      return scanner.delivered;
    } finally {
      scanner.handler = null;
    }
  }
}
