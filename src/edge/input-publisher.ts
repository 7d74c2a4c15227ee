import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import Redis from 'ioredis';
import { JournalTail } from '../journal/journal-tail';
import type { JournalHandler } from '../journal/segment-scanner';
import { EVENT_WORDS } from '../model/events';
import { SRC_DURABLE } from '../model/source-words';
import { log } from '../util/log';
import { RECORD_WORDS, ReplicationKeys, ReplicationMeta, entrySequence } from './replication-format';
import { PrimaryLease, defineFencedCommands, isFenced } from './primary-lease';

/** Records per stream entry at most: one poll's batch (about 36 KiB). */
const BATCH_RECORDS = 512;
/** Polls of the journal while it has nothing new that is durable. */
const IDLE_MS = 1;
/** After a Redis error, the next try. */
const RETRY_MS = 200;

export interface PublisherOptions {
  redisUrl: string;
  keys: ReplicationKeys;
  journalDir: string;
  /** The source's words: SRC_DURABLE is how far the journal may be read. */
  sourceStats: Float64Array;
  /** Records the stream keeps at least (MINID ~). */
  retention: number;
  meta: ReplicationMeta;
  /** The checkpoint the books started from: published at once, so followers can start before the next one. */
  restoredFrom: { sequence: number; path: string } | null;
  /** With --lease-ms: every write is fenced by the lease's epoch (primary-lease.ts). */
  lease: PrimaryLease | null;
  /** An ingest primary's publisher session, read after each batch (see publishBatch); null for other sources. */
  session: (() => { session: string; journalBase: number } | null) | null;
}

/** Copies journal records into the batch buffer as (sequence, 8 event words). */
class BatchCollector implements JournalHandler {
  readonly words = new Float64Array(BATCH_RECORDS * RECORD_WORDS);
  count = 0;

  onEvent(sequence: number, f: Float64Array, w: number): void {
    const at = this.count * RECORD_WORDS;
    this.words[at] = sequence;
    for (let i = 0; i < EVENT_WORDS; i++) this.words[at + 1 + i] = f[w + i];
    this.count++;
  }
}

/**
 * The primary's side of replication: follows its own journal (journal-tail.ts, durable records
 * only) and appends each poll's records to the Redis stream, trimmed to the retention; publishes
 * every completed checkpoint. It runs on the main thread's event loop, apart from the feed: the
 * source thread never waits for it and never learns whether Redis is up. The journal on disk is
 * its buffer, so it holds at most one batch in memory; while Redis is away it waits, and when
 * Redis returns it goes on from the stream's last entry (a follower then sees no gap unless the
 * journal's retention deleted records meanwhile; then followers bootstrap from the checkpoint).
 */
export class InputPublisher {
  private readonly redis: ReturnType<typeof defineFencedCommands>;
  private readonly collector = new BatchCollector();
  private tail: JournalTail | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private checkpointSequence = 0;
  /** The newest checkpoint on disk that followers may start from (published or about to be). */
  private newestCheckpoint: { sequence: number; path: string } | null;
  /** The meta and checkpoint are (re)written at each connection: a restarted Redis may have lost them. */
  private announced = false;
  private publishing: Promise<void> = Promise.resolve();
  /** Through which journal record the stream holds what this process published. */
  publishedThrough = 0;
  connected = false;
  entries = 0;
  bytes = 0;
  lastError: string | null = null;
  /** Told after each batch the stream took (publishedThrough moved): acks that wait for the stream can go. */
  onPublished: (() => void) | null = null;

  constructor(private readonly options: PublisherOptions) {
    this.newestCheckpoint = options.restoredFrom;
    // No offline queue: a command while Redis is away fails at once, and the loop retries it.
    this.redis = defineFencedCommands(new Redis(options.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => RETRY_MS }));
    this.redis.on('error', (err) => this.fail(err));
    this.redis.on('ready', () => {
      this.connected = true;
      this.announced = false;
    });
    this.redis.on('close', () => (this.connected = false));
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.publishing.catch(() => undefined);
    this.tail?.close();
    this.redis.disconnect();
  }

  /** A new checkpoint is complete on disk: followers may start from it (published after the current one, in order). */
  checkpointCompleted(info: { sequence: number; path: string }): void {
    this.newestCheckpoint = info;
    // A standby's checkpoints wait for its promotion (begin publishes the newest then).
    if (!this.running) return;
    this.publishing = this.publishing.then(() => this.publishCheckpoint(info)).catch((err) => this.fail(err));
  }

  health(): Record<string, unknown> {
    return {
      stream: this.options.keys.stream,
      connected: this.connected,
      published_through: this.publishedThrough,
      durable: this.options.sourceStats[SRC_DURABLE],
      checkpoint: this.checkpointSequence,
      entries: this.entries,
      bytes: this.bytes,
      last_error: this.lastError,
    };
  }

  private async run(): Promise<void> {
    while (this.running && this.options.lease?.role !== 'fenced') {
      try {
        if (this.redis.status === 'wait') await this.redis.connect();
        if (this.tail === null) await this.begin();
        if (!this.announced) await this.announce();
        if (!(await this.publishBatch())) await sleep(IDLE_MS);
      } catch (err) {
        this.fail(err);
        await sleep(RETRY_MS);
      }
    }
  }

  /** What a follower needs to start: the meta and the newest checkpoint, unless Redis has them already. */
  private async announce(): Promise<void> {
    const { keys, meta } = this.options;
    await this.redis.set(keys.meta, JSON.stringify(meta));
    const published = Number(await this.redis.hget(keys.checkpoint, 'sequence'));
    this.checkpointSequence = Number.isFinite(published) ? published : 0;
    const newest = this.newestCheckpoint;
    if (newest !== null && newest.sequence > this.checkpointSequence) await this.publishCheckpoint(newest);
    this.announced = true;
  }

  /** Where the stream ends is where this process goes on (a restart continues the same stream). */
  private async begin(): Promise<void> {
    const { keys, restoredFrom } = this.options;
    await this.announce();
    const last = await this.redis.xrevrange(keys.stream, '+', '-', 'COUNT', 1);
    const after = last.length > 0 ? entrySequence(last[0][0]) : (restoredFrom?.sequence ?? 0);
    this.publishedThrough = after;
    this.tail = new JournalTail(this.options.journalDir, after + 1);
  }

  /** One entry of the records durable since the last; false when there were none. */
  private async publishBatch(): Promise<boolean> {
    const lease = this.options.lease;
    const tail = this.tail!;
    const collector = this.collector;
    const durable = this.options.sourceStats[SRC_DURABLE];
    if (collector.count === 0) tail.read(collector, durable, BATCH_RECORDS);
    const count = collector.count;
    if (count === 0) return false;
    const words = collector.words;
    const last = words[(count - 1) * RECORD_WORDS];
    const keep = Math.max(1, Math.min(last - this.options.retention + 1, this.checkpointSequence + 1));
    const records = Buffer.from(words.buffer, 0, count * RECORD_WORDS * 8);
    const fields: (string | Buffer)[] = ['MINID', '~', String(keep), `${last}-0`, 'r', records, 't', String(Date.now())];
    // Read after the batch: the session file is written before the session's first event is
    // journaled, so a batch holding any event of a session is published with that session's name
    // and base (or a later one's, whose base then lies at or past the batch's end). A standby
    // that promotes continues the session of the last entry (replication-format.ts).
    const session = this.options.session?.() ?? null;
    if (session !== null) fields.push('s', session.session, 'b', String(session.journalBase));
    // A failure leaves the batch in the collector: the next try sends the same records.
    await this.write(() => (lease === null ? this.redis.xadd(this.options.keys.stream, ...(fields as string[])) : this.redis.bookcastFencedXadd(lease.keys.epoch, this.options.keys.stream, String(lease.epoch), ...fields)));
    collector.count = 0;
    this.publishedThrough = last;
    this.entries++;
    this.bytes += records.length;
    this.onPublished?.();
    return true;
  }

  private async publishCheckpoint(info: { sequence: number; path: string }): Promise<void> {
    if (info.sequence <= this.checkpointSequence) return;
    const fields: (string | Buffer)[] = ['sequence', String(info.sequence)];
    for (const name of (await readdir(info.path)).filter((n) => !n.endsWith('.tmp')).sort()) {
      fields.push(name, await readFile(path.join(info.path, name)));
    }
    const key = this.options.keys.checkpoint;
    const lease = this.options.lease;
    await this.write(() => (lease === null ? this.redis.multi().del(key).hset(key, ...fields).exec() : this.redis.bookcastFencedReplaceHash(lease.keys.epoch, key, String(lease.epoch), ...fields)));
    this.checkpointSequence = info.sequence;
  }

  /** A write refused by the epoch check fences this process (the lease says so in health) and ends the loop. */
  private async write(command: () => Promise<unknown>): Promise<void> {
    try {
      await command();
    } catch (err) {
      if (isFenced(err)) this.options.lease?.fence();
      throw err;
    }
  }

  private fail(err: unknown): void {
    const message = String((err as Error).message ?? err);
    if (message !== this.lastError) log.warn({ code: 'REPLICATION_UNAVAILABLE' }, `replication: ${message}`);
    this.lastError = message;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
