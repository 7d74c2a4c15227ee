import Redis from 'ioredis';
import { BookcastError } from '../errors';
import { EventSink, W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../model/events';
import { FOLLOW_APPLIED, FOLLOW_APPLIED_AT, FOLLOW_CONNECTED, FOLLOW_HEAD, FOLLOW_LAG_MS } from '../model/source-words';
import { RECORD_WORDS, ReplicationKeys, entrySequence } from './replication-format';

/** Entries per read: at most 512 records each. */
const READ_COUNT = 64;
/** A blocked read returns this often with nothing, so a stop is noticed. */
const BLOCK_MS = 250;
/** How often the stream's head is looked up, for the lag in records. */
const HEAD_EVERY_MS = 500;
const RETRY_MS = 100;

/**
 * An edge's (or standby's) input: reads the primary's stream (replication-format.ts) from the
 * record after its books' checkpoint and hands every record, in order, to the same event rings a
 * local source would write: the book workers then do exactly what the primary's did. A record
 * missing from the stream (trimmed past this follower) is REPLICATION_GAP: the books can no longer
 * become identical, so the edge stops and a restart bootstraps from the published checkpoint.
 * Redis down: the books keep what they have (the edge serves it, marked stale) and reading
 * resumes where it stopped, without a gap, once Redis is back.
 */
export class InputFollower {
  private readonly redis: Redis;
  private readonly head: Redis;
  private applied: number;
  private headAt = 0;
  /** The ingest publisher session of the last entry applied (its `s` and `b` fields), null without. */
  session: { session: string; journalBase: number } | null = null;

  constructor(
    redisUrl: string,
    private readonly keys: ReplicationKeys,
    private readonly sink: EventSink,
    /** Makes what the sink took visible to the books. */
    private readonly publish: () => void,
    private readonly stats: Float64Array,
    /** The journal record the books hold already (their checkpoint's). */
    from: number,
    /** How long a read waits for entries; a standby waits less, so a promotion is noticed sooner. */
    private readonly blockMs = BLOCK_MS,
  ) {
    const options = { maxRetriesPerRequest: 1, retryStrategy: () => RETRY_MS };
    this.redis = new Redis(redisUrl, options);
    // A blocked XREAD holds its connection: the head is looked up on another one.
    this.head = new Redis(redisUrl, options);
    this.redis.on('error', () => (stats[FOLLOW_CONNECTED] = 0));
    this.head.on('error', () => undefined);
    this.applied = from;
    stats[FOLLOW_APPLIED] = from;
  }

  /**
   * Follows until `stopped()`; `caughtUp` is called once, the first time a read finds nothing more.
   * Once `draining()` (a standby that took the lease: nobody can append any more), it reads
   * without blocking and returns at the stream's end.
   */
  async run(stopped: () => boolean, caughtUp: () => void, draining: () => boolean = () => false): Promise<void> {
    let told = false;
    try {
      while (!stopped()) {
        let reply: [Buffer, [Buffer, Buffer[]][]][] | null;
        const last = draining();
        try {
          const from = `${this.applied}-0`;
          reply = (await (last
            ? this.redis.xreadBuffer('COUNT', READ_COUNT, 'STREAMS', this.keys.stream, from)
            : this.redis.xreadBuffer('COUNT', READ_COUNT, 'BLOCK', this.blockMs, 'STREAMS', this.keys.stream, from))) as typeof reply;
          this.stats[FOLLOW_CONNECTED] = 1;
        } catch {
          this.stats[FOLLOW_CONNECTED] = 0;
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
          continue;
        }
        const entries = reply === null ? [] : reply[0][1];
        for (const [, fields] of entries) this.apply(fields);
        if (entries.length > 0) this.publish();
        if (last && entries.length < READ_COUNT) return;
        this.lookUpHead();
        if (entries.length < READ_COUNT && !told) {
          told = true;
          caughtUp();
        }
      }
    } finally {
      this.redis.disconnect();
      this.head.disconnect();
    }
  }

  private apply(fields: Buffer[]): void {
    let records: Buffer | null = null;
    let publishedAt = 0;
    let session: string | null = null;
    let journalBase = 0;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i].toString();
      if (name === 'r') records = fields[i + 1];
      else if (name === 't') publishedAt = Number(fields[i + 1].toString());
      else if (name === 's') session = fields[i + 1].toString();
      else if (name === 'b') journalBase = Number(fields[i + 1].toString());
    }
    if (session !== null) this.session = { session, journalBase };
    if (records === null || records.length % (RECORD_WORDS * 8) !== 0) throw new BookcastError('REPLICATION_GAP', 'a replication entry without whole records');
    // Copied into an aligned buffer: Redis's reply slices sit at any byte offset.
    const f = new Float64Array(records.length / 8);
    new Uint8Array(f.buffer).set(records);
    const stats = this.stats;
    for (let at = 0; at < f.length; at += RECORD_WORDS) {
      const sequence = f[at];
      if (sequence <= this.applied) continue;
      if (sequence !== this.applied + 1) {
        throw new BookcastError('REPLICATION_GAP', `the stream ${this.keys.stream} goes on at record ${sequence}, this edge holds ${this.applied}: restart it to bootstrap from the published checkpoint`);
      }
      const w = at + 1;
      this.sink.event(f[w + W_KIND], f[w + W_SYMBOL], f[w + W_SIDE], f[w + W_ORDER_ID], f[w + W_PRICE], f[w + W_SIZE], f[w + W_NEW_ORDER_ID], f[w + W_TIMESTAMP]);
      this.applied = sequence;
    }
    const now = Date.now();
    stats[FOLLOW_APPLIED] = this.applied;
    stats[FOLLOW_APPLIED_AT] = now;
    if (publishedAt > 0) stats[FOLLOW_LAG_MS] = Math.max(0, now - publishedAt);
    if (this.applied > stats[FOLLOW_HEAD]) stats[FOLLOW_HEAD] = this.applied;
  }

  /** The stream's last record, looked up now and then without waiting for the answer. */
  private lookUpHead(): void {
    const now = Date.now();
    if (now - this.headAt < HEAD_EVERY_MS) return;
    this.headAt = now;
    this.head.xinfo('STREAM', this.keys.stream).then(
      (info) => {
        const fields = info as unknown[];
        const at = fields.indexOf('last-generated-id');
        if (at >= 0) this.stats[FOLLOW_HEAD] = Math.max(this.stats[FOLLOW_HEAD], entrySequence(String(fields[at + 1])));
      },
      () => undefined,
    );
  }
}
