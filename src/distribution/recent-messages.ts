import type { OutMessage, RecordTap } from './consumer';
import type { StreamTable } from './streams';

/** What `RecentMessages.check` says of a resume point (README "Resume"). */
export const RESUME_REPLAY = 0;
/** The point is older than the oldest message kept: a fresh snapshot instead. */
export const RESUME_TOO_OLD = 1;
/** This process has no unbroken record of the stream (nobody followed it here): a fresh snapshot. */
export const RESUME_UNKNOWN_STREAM = 2;
/** The point is past the newest message this process has seen: a fresh snapshot. */
export const RESUME_SEQUENCE_AHEAD = 3;

/** The notice's words for each status, in the same order. */
export const RESUME_REASONS = ['replayed', 'too_old', 'unknown_stream', 'sequence_ahead'] as const;

/** A stream's byte area to begin with (see StreamRecord.grow). */
const INITIAL_BYTES = 4096;

/**
 * One stream's last messages: their bytes in a circular byte area, and per message its sequence,
 * start and length in circular index arrays. Made the first time the stream is covered and
 * reused from then on, so recording a message copies bytes and stores three numbers.
 */
class StreamRecord {
  /** Grows by doubling up to the buffer's byte limit: most streams of a many-symbol server stay small. */
  bytes: Uint8Array;
  readonly sequence: Float64Array;
  readonly start: Int32Array;
  readonly length: Int32Array;
  /** Index of the oldest entry, entries held, where the next message's bytes go. */
  head = 0;
  count = 0;
  writeAt = 0;

  constructor(maxMessages: number, maxBytes: number) {
    this.bytes = new Uint8Array(Math.min(maxBytes, INITIAL_BYTES));
    this.sequence = new Float64Array(maxMessages);
    this.start = new Int32Array(maxMessages);
    this.length = new Int32Array(maxMessages);
  }

  /** A larger byte area holding the same bytes at the same offsets. */
  grow(atLeast: number, maxBytes: number): void {
    let size = this.bytes.length * 2;
    while (size < atLeast) size *= 2;
    const bytes = new Uint8Array(Math.min(size, maxBytes));
    bytes.set(this.bytes.subarray(0, this.writeAt));
    this.bytes = bytes;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.writeAt = 0;
  }
}

/**
 * The recent-message buffer resumes are served from: per stream, the last `maxMessages` messages
 * within `maxBytes` bytes (--resume-messages, --resume-bytes), as the owner's bytes. It is a tap
 * of the Distributor (every record that flows, before its followers get it), and the Distributor
 * tells it when a stream starts flowing from a snapshot and when it stops (`started`, `stopped`),
 * because a buffer is only useful while it has no hole: a stream is *covered* from the sequence it
 * started at (its snapshot's; for trades, which have none, the first trade seen) for as long as it
 * keeps flowing, and every message after `since` is held until evicted. Eviction moves `since`
 * forward to the evicted message's sequence, so "everything after since" stays true.
 *
 * The hot path (`onRecord`) allocates nothing of its own once a stream's byte area has grown to
 * its size (it doubles from 4 KiB, at most log2(maxBytes / 4 KiB) times; it takes the record's shared view,
 * `OutMessage.bytes()`, which the outlets use too): a copy into the stream's byte area and three
 * stores; a message that does not fit before the end of the area goes to its start (the tail is
 * left unused) and evicts the oldest entries it overlaps.
 */
export class RecentMessages implements RecordTap {
  private readonly records: (StreamRecord | null)[] = [];
  /** The stream is covered: every message after `since` up to the newest is held. */
  private readonly covered: Uint8Array;
  private readonly since: Float64Array;
  /** Sequence of the newest message recorded (or `since` while none is). */
  private readonly newest: Float64Array;
  /** Messages evicted since start (the bench reports it: the buffer was full). */
  evicted = 0;

  constructor(
    private readonly streams: StreamTable,
    readonly maxMessages: number,
    readonly maxBytes: number,
  ) {
    for (let i = 0; i < streams.count; i++) this.records.push(null);
    this.covered = new Uint8Array(streams.count);
    this.since = new Float64Array(streams.count);
    this.newest = new Float64Array(streams.count);
  }

  /**
   * The stream flows from a snapshot at `sequence`: coverage starts there unless it already runs
   * (another follower's snapshot changes nothing); a book reset restarts it, since what came
   * before the reset no longer applies to the book.
   */
  started(key: number, sequence: number, reset: boolean): void {
    if (this.covered[key] === 1 && !reset) return;
    this.cover(key, sequence);
  }

  /** The owner stops producing the stream: what comes later would have a hole, so coverage ends. */
  stopped(key: number): void {
    this.covered[key] = 0;
    this.records[key]?.clear();
  }

  onRecord(m: OutMessage): void {
    const key = m.key;
    if (this.covered[key] === 0) {
      // Trades flow with no snapshot and never stop: covered from the first one seen, exclusive,
      // since trades of the same event printed before this process started may be missing.
      if (this.streams.needsSnapshot(key)) return;
      this.cover(key, m.sequence);
    }
    const record = this.records[key]!;
    const length = m.end - m.start;
    if (length > this.maxBytes) {
      // Larger than the whole area: it cannot be replayed, so coverage restarts after it.
      record.clear();
      this.since[key] = m.sequence;
      this.newest[key] = m.sequence;
      return;
    }
    const max = this.maxMessages;
    let at = record.writeAt;
    // Grow before wrapping: the area wraps only once it has its full size.
    if (at + length > record.bytes.length && record.bytes.length < this.maxBytes) record.grow(at + length, this.maxBytes);
    if (at + length > record.bytes.length) at = 0;
    // Evict by count, then every oldest entry whose bytes the new message would overwrite.
    if (record.count === max) this.evictOldest(key, record);
    while (record.count > 0) {
      const oldStart = record.start[record.head];
      if (oldStart >= at + length || oldStart + record.length[record.head] <= at) break;
      this.evictOldest(key, record);
    }
    // m.bytes() is the record's one shared view (the hub's outlets use the same one): no copy of our own.
    record.bytes.set(m.bytes(), at);
    const slot = (record.head + record.count) % max;
    record.sequence[slot] = m.sequence;
    record.start[slot] = at;
    record.length[slot] = length;
    record.count++;
    record.writeAt = at + length;
    this.newest[key] = m.sequence;
  }

  /** Whether messages after sequence `after` of stream `key` can be replayed from here (RESUME_*). */
  check(key: number, after: number): number {
    if (this.covered[key] === 0) return RESUME_UNKNOWN_STREAM;
    if (after > this.newest[key]) return RESUME_SEQUENCE_AHEAD;
    if (after < this.since[key]) return RESUME_TOO_OLD;
    return RESUME_REPLAY;
  }

  /** Sequence of the newest message seen on a covered stream. */
  newestSequence(key: number): number {
    return this.newest[key];
  }

  /** How many held messages come after `after` (what a replay would send). */
  countAfter(key: number, after: number): number {
    const record = this.records[key];
    if (record === null || this.covered[key] === 0) return 0;
    let n = 0;
    for (let i = record.count - 1; i >= 0 && record.sequence[(record.head + i) % this.maxMessages] > after; i--) n++;
    return n;
  }

  /** Hands every held message after `after` to `visit`, oldest first; returns how many. Views are valid during the call only. */
  replay(key: number, after: number, visit: (bytes: Uint8Array, sequence: number) => void): number {
    const record = this.records[key];
    if (record === null || this.covered[key] === 0) return 0;
    const max = this.maxMessages;
    let n = 0;
    for (let i = 0; i < record.count; i++) {
      const slot = (record.head + i) % max;
      const sequence = record.sequence[slot];
      if (sequence <= after) continue;
      const start = record.start[slot];
      visit(record.bytes.subarray(start, start + record.length[slot]), sequence);
      n++;
    }
    return n;
  }

  private cover(key: number, sequence: number): void {
    let record = this.records[key];
    if (record === null) {
      record = new StreamRecord(this.maxMessages, this.maxBytes);
      this.records[key] = record;
    }
    record.clear();
    this.covered[key] = 1;
    this.since[key] = sequence;
    this.newest[key] = sequence;
  }

  private evictOldest(key: number, record: StreamRecord): void {
    this.since[key] = record.sequence[record.head];
    record.head = (record.head + 1) % this.maxMessages;
    record.count--;
    this.evicted++;
  }
}
