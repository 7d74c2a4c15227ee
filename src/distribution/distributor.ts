import { FLAG_BROADCAST, FLAG_SNAPSHOT, OUT_HEADER_BYTES, typeDepthIndex, typeMessage, typeSymbol } from '../model/out-records';
import type { RecordHandler, SpscRing } from '../ring/spsc-ring';
import { OutMessage, RecordTap, StreamConsumer, StreamOwners } from './consumer';
import { streamOfMessage } from '../model/streams';
import type { StreamTable } from './streams';
import type { RecentMessages } from './recent-messages';

/** Records taken from one out-ring per poll, so one busy worker cannot starve the others. */
const READ_LIMIT = 1024;

/**
 * The distribution core: reads the book workers' out-rings on the front thread, once, and hands
 * each record to the consumers that follow its stream (and to the taps).
 *
 * Joining is ordered through the owner. `follow` puts the consumer among the stream's waiters
 * and asks the owner (control ring) for a snapshot; the snapshot comes back through the
 * out-ring in sequence order with the diffs, and at that point the waiters get it and become
 * followers. So every message after the snapshot reaches a new follower, and none before it.
 * One request serves every consumer waiting when it is answered.
 *
 * A stream costs nothing while nobody follows it: the owner produces it (L2 depth, L3, ticker,
 * candle updates) only between the first follow and the last leave. A deactivation waits for a
 * snapshot request in flight to be answered, so it can never overtake a request that a
 * newcomer relies on.
 */
export class Distributor implements RecordHandler {
  private ring!: SpscRing;
  private readonly message = new OutMessage();
  private readonly followers: StreamConsumer[][] = [];
  private readonly waiting: StreamConsumer[][] = [];
  private readonly taps: RecordTap[] = [];
  /** The recent-message buffer resumes replay from (told when streams start and stop), or null. */
  private recent: RecentMessages | null = null;
  /** A snapshot request is with the owner and not yet answered. */
  private readonly snapshotInFlight: Uint8Array;
  /** The owner has been asked to produce the stream and not yet told to stop. */
  private readonly active: Uint8Array;
  /** Records read since start (health). */
  records = 0;

  constructor(
    private readonly rings: readonly SpscRing[],
    readonly streams: StreamTable,
    private readonly owners: StreamOwners,
  ) {
    for (let i = 0; i < streams.count; i++) {
      this.followers.push([]);
      this.waiting.push([]);
    }
    this.snapshotInFlight = new Uint8Array(streams.count);
    this.active = new Uint8Array(streams.count);
  }

  /** Reads what the workers have published; returns the number of records handed out. */
  poll(): number {
    let work = 0;
    for (let i = 0; i < this.rings.length; i++) {
      this.ring = this.rings[i];
      work += this.ring.read(this, READ_LIMIT);
    }
    this.records += work;
    this.owners.flushControl();
    return work;
  }

  /** Every record that flows whoever follows it (trades, closed candles) also goes to `tap`. */
  tap(tap: RecordTap): void {
    this.taps.push(tap);
  }

  /**
   * Keeps the recent-message buffer: a tap that is also told when a stream starts flowing from a
   * snapshot and when it stops, so it knows the span it holds has no hole.
   */
  keepRecent(recent: RecentMessages): void {
    this.recent = recent;
    this.tap(recent);
  }

  /**
   * Adds `consumer` to a stream that is flowing (the recent buffer covers it) without a snapshot:
   * a resume replays what it missed from the buffer instead, and the next record reaches it live.
   */
  followFlowing(consumer: StreamConsumer, stream: number): void {
    if (this.followers[stream].includes(consumer) || this.waiting[stream].includes(consumer)) return;
    this.followers[stream].push(consumer);
  }

  /** Starts `consumer` on `stream`: its snapshot, then every message after it. */
  follow(consumer: StreamConsumer, stream: number): void {
    if (this.followers[stream].includes(consumer) || this.waiting[stream].includes(consumer)) return;
    if (!this.streams.needsSnapshot(stream)) {
      this.followers[stream].push(consumer);
      return;
    }
    this.awaitSnapshot(consumer, stream);
  }

  /** A follower asks for a fresh snapshot (a session joining or resynchronising); it keeps following. */
  resnapshot(consumer: StreamConsumer, stream: number): void {
    if (!this.streams.needsSnapshot(stream) || this.waiting[stream].includes(consumer)) return;
    this.awaitSnapshot(consumer, stream);
  }

  leave(consumer: StreamConsumer, stream: number): void {
    remove(this.followers[stream], consumer);
    remove(this.waiting[stream], consumer);
    this.deactivateIfIdle(stream);
  }

  onRecord(type: number, offset: number, length: number): void {
    const ring = this.ring;
    const streams = this.streams;
    const m = this.message;
    const kind = typeMessage(type);
    m.symbol = typeSymbol(type);
    m.kind = kind;
    m.index = typeDepthIndex(type);
    m.stream = streamOfMessage(kind, m.index);
    m.key = streams.index(m.symbol, m.stream);
    m.sequence = ring.f64[offset >>> 3];
    m.reset(ring.bytes, offset + OUT_HEADER_BYTES, offset + length);
    const stream = m.key;
    if ((type & FLAG_SNAPSHOT) !== 0) {
      this.onSnapshot(m, (type & FLAG_BROADCAST) !== 0);
      return;
    }
    streams.lastSequence[stream] = m.sequence;
    const taps = this.taps;
    for (let i = 0; i < taps.length; i++) taps[i].onRecord(m);
    // From the end: a consumer may leave the stream during its call.
    const list = this.followers[stream];
    for (let i = list.length - 1; i >= 0; i--) list[i].onMessage(m);
  }

  private onSnapshot(m: OutMessage, reset: boolean): void {
    const stream = m.key;
    if (m.sequence > this.streams.lastSequence[stream]) this.streams.lastSequence[stream] = m.sequence;
    this.recent?.started(stream, m.sequence, reset);
    const followers = this.followers[stream];
    if (reset) {
      // A book reset: everyone already following restarts from this snapshot.
      for (let i = followers.length - 1; i >= 0; i--) followers[i].onSnapshot(m, true);
    } else {
      this.snapshotInFlight[stream] = 0;
    }
    const waiting = this.waiting[stream];
    if (waiting.length > 0) {
      // Swapped out first: a consumer may follow again (a new request) during its call.
      const served = waiting.splice(0);
      for (const consumer of served) {
        const follower = followers.includes(consumer);
        if (!follower) followers.push(consumer);
        if (!follower || !reset) consumer.onSnapshot(m, false);
      }
    }
    if (!reset) this.deactivateIfIdle(stream);
  }

  private awaitSnapshot(consumer: StreamConsumer, stream: number): void {
    this.waiting[stream].push(consumer);
    if (this.snapshotInFlight[stream] === 0) {
      const streams = this.streams;
      this.snapshotInFlight[stream] = 1;
      this.active[stream] = 1;
      this.owners.requestSnapshot(streams.symbolOf(stream), streams.streamOf(stream));
    }
  }

  private deactivateIfIdle(stream: number): void {
    if (this.active[stream] === 0 || this.snapshotInFlight[stream] === 1) return;
    if (this.followers[stream].length > 0 || this.waiting[stream].length > 0) return;
    const streams = this.streams;
    this.active[stream] = 0;
    this.recent?.stopped(stream);
    this.owners.deactivate(streams.symbolOf(stream), streams.streamOf(stream));
  }
}

function remove<T>(list: T[], item: T): void {
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}
