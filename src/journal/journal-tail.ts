import { closeSync, fstatSync, openSync } from 'node:fs';
import { ioError } from './journal-error';
import { RECORD_BYTES } from './journal-layout';
import { SegmentFile, listSegments } from './journal-segments';
import { JournalHandler, SegmentScanner } from './segment-scanner';

/**
 * Follows a journal that another thread is writing, record by record, without rereading it:
 * records have a fixed size, so the next one is at a known offset of its segment. It reads only
 * up to a sequence the caller knows to be durable, so every record it meets is whole and a bad
 * one is real damage (JOURNAL_CORRUPT), never a write still in progress.
 *
 * Retention may delete segments before the tail reaches them: the tail then goes on from the
 * oldest segment left and counts what it could not read in `skipped`.
 */
export class JournalTail {
  /** The next sequence to hand over. */
  next: number;
  /** Records deleted by retention before this tail read them. */
  skipped = 0;
  private readonly scanner = new SegmentScanner();
  private segment: SegmentFile | null = null;
  private fd = -1;
  /** Byte offset of `next` in the open segment. */
  private position = 0;

  constructor(
    readonly dir: string,
    fromSequence: number,
  ) {
    this.next = fromSequence;
  }

  /** Hands records next … min(durable, next + limit - 1) to `handler`; returns how many. */
  read(handler: JournalHandler, durable: number, limit: number): number {
    let delivered = 0;
    while (delivered < limit && this.next <= durable) {
      if (!this.open()) break;
      const size = this.fileSize();
      const wanted = Math.min(limit - delivered, durable - this.next + 1);
      const end = Math.min(size, this.position + wanted * RECORD_BYTES);
      if (end <= this.position) {
        // This segment is used up: the next record is in the next one, once it exists.
        const used = this.segment!.firstSequence;
        this.close();
        if (!this.open() || this.segment!.firstSequence === used) break;
        continue;
      }
      const scanner = this.scanner;
      scanner.handler = handler;
      scanner.fromSequence = this.next;
      const good = scanner.scan(this.fd, end, this.segment!, true, this.position);
      scanner.handler = null;
      const got = (good - this.position) / RECORD_BYTES;
      this.position = good;
      this.next += got;
      delivered += got;
      if (good < end) break;
    }
    return delivered;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.segment = null;
  }

  /** Opens the segment holding `next`; false when there is none yet. */
  private open(): boolean {
    if (this.fd >= 0) return true;
    const segments = listSegments(this.dir);
    if (segments.length === 0) return false;
    if (segments[0].firstSequence > this.next) {
      this.skipped += segments[0].firstSequence - this.next;
      this.next = segments[0].firstSequence;
    }
    let segment = segments[0];
    for (const s of segments) if (s.firstSequence <= this.next) segment = s;
    try {
      this.fd = openSync(segment.path, 'r');
    } catch (error) {
      // Retention removed it between the listing and the open: the next call lists again.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw ioError('open', segment.path, error);
    }
    this.segment = segment;
    this.position = (this.next - segment.firstSequence) * RECORD_BYTES;
    return true;
  }

  private fileSize(): number {
    try {
      return fstatSync(this.fd).size;
    } catch (error) {
      throw ioError('stat', this.segment!.path, error);
    }
  }
}
