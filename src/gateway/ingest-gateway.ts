import { createHash, timingSafeEqual } from 'node:crypto';
import type { CompressOptions, HttpResponse, TemplatedApp, WebSocket } from 'uWebSockets.js';
import { DISABLED } from 'uWebSockets.js';
import { BookcastError, ERRORS, ErrorCode } from '../errors';
import { EVENT_BYTES, EVENT_WORDS } from '../model/events';
import { Doorbell } from '../ring/doorbell';
import { BACK_PRESSURED, SpscRing } from '../ring/spsc-ring';
import { INGEST_EVENT, INGEST_SESSION, IngestBuffers, IngestStart, SESSION_NAME } from '../source/ingest-protocol';
import { SRC_DURABLE } from '../model/source-words';
import { IngestBatchDecoder, IngestBatchError, InstrumentFinder } from '../wire/ingest-batch';
import { nowMicros } from '../util/clock';
import { readQuery, sendError, wsRoute } from './http';
import { closeIfTooBig, payloadCeiling } from './frame-limits';
import type { UpgradeGuard } from './upgrade-guard';

export interface IngestOptions {
  token: string;
  maxBatchEvents: number;
  maxBatchBytes: number;
}

interface PublisherData {
  session: string;
  /** The address the connection limits count it against (connection-limits.ts). */
  client: string;
}

/** Events accepted but waiting for room on the ingest ring, at most; past it batches are refused. */
const MAX_QUEUED_EVENTS = 1_000_000;
/** Frames up to this many times the batch limit are answered MESSAGE_TOO_LARGE; larger ones are closed (1009). */
const HARD_PAYLOAD_FACTOR = 2;

/**
 * WebSocket /ingest: where a publisher (matching engine, OMS, feed handler) pushes input events.
 * Runs on the front thread; the source thread journals what it accepts (ingest-source.ts).
 *
 * One publisher at a time, in one session at a time (see ingest-protocol.ts). A batch is
 * decoded and checked whole; then its sequences decide: events at or below the highest accepted
 * sequence are duplicates (a publisher resending after a reconnect) and are dropped, a batch that
 * starts past the next expected sequence is a gap and is refused, and the rest is accepted: from
 * then on it is bookcast's to keep, in order, even if it must wait for ring space here. Acks
 * name the highest sequence on stable storage; a publisher keeps everything after it until acked.
 */
export class IngestGateway {
  private readonly tokenDigest: Uint8Array | null;
  private readonly decoder: IngestBatchDecoder | null;
  private readonly ring: SpscRing | null;
  /**
   * The front loop's doorbell: rung when work for poll() appears on this thread (events queued
   * behind a full ring, a session whose acks can now be computed), since the loop may be asleep
   * for long (app/front-loop.ts) and nothing else would wake it for that.
   */
  private readonly frontBell: Doorbell | null;
  private publisher: WebSocket<PublisherData> | null = null;
  private session: string | null = null;
  /** Journal record after which the session's event 1 sits; NaN until the source thread confirms a new session. */
  private journalBase = NaN;
  private accepted = 0;
  private acked = 0;
  /** Accepted events (whole event words) and session starts waiting for ring space, in order. */
  private readonly queue: (Float64Array | string)[] = [];
  private queueOffset = 0;
  private queuedEvents = 0;
  private ready = false;
  /** Why publishers are turned away while this process is not the primary (a standby, a fenced primary). */
  private refusal: ErrorCode | null = null;
  /**
   * With replication under a lease: the journal record through which the Redis stream holds this
   * process's records. An ack then promises both the journal on disk and the stream, so a standby
   * that takes over holds every acknowledged event.
   */
  replicatedThrough: (() => number) | null = null;
  readonly counters = { batches: 0, events: 0, duplicates: 0, refused: 0 };

  constructor(
    private readonly options: IngestOptions | null,
    instruments: InstrumentFinder,
    buffers: IngestBuffers | undefined,
    /** The source's stats (source-protocol.ts), where the durable journal sequence is. */
    private readonly sourceStats: Float64Array,
    private readonly guard: UpgradeGuard,
  ) {
    this.tokenDigest = options === null ? null : digest(options.token);
    this.decoder = options === null ? null : new IngestBatchDecoder(instruments, options.maxBatchEvents);
    this.ring = buffers === undefined ? null : new SpscRing(buffers.ring);
    this.frontBell = buffers === undefined ? null : new Doorbell(buffers.frontDoorbell);
  }

  /** Where the source thread found the session after restoring the journal; publishers may connect from now on. */
  begin(start: IngestStart): void {
    this.refusal = null;
    this.session = start.session;
    this.journalBase = start.journalBase;
    this.accepted = start.accepted;
    this.acked = this.durable();
    this.ready = true;
  }

  /**
   * From now on publishers are refused with `code` (NOT_PRIMARY on a standby, PRIMARY_FENCED once
   * another process took the lease); a connected one is told so and closed, and nothing more is acked.
   */
  refuseWith(code: ErrorCode): void {
    this.refusal = code;
    const publisher = this.publisher;
    if (publisher === null) return;
    this.publisher = null;
    publisher.send(JSON.stringify({ type: 'error', code, message: ERRORS[code].message }), false);
    publisher.end(1013, code);
  }

  /** The source thread wrote the session file for `session`: acks can be computed from now on. */
  sessionStarted(session: string, journalBase: number): void {
    if (session === this.session) this.journalBase = journalBase;
    this.frontBell?.ring();
  }

  register(app: TemplatedApp): void {
    const maxBatchBytes = this.options?.maxBatchBytes ?? 1024;
    wsRoute<PublisherData>(app, '/ingest', {
      compression: DISABLED as CompressOptions,
      maxPayloadLength: payloadCeiling(maxBatchBytes * HARD_PAYLOAD_FACTOR),
      maxBackpressure: 1024 * 1024,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        const client = this.guard.admit(res, req);
        if (client === null) return;
        let session: string;
        try {
          if (this.refusal !== null) throw new BookcastError(this.refusal);
          if (this.options === null || !this.ready) throw new BookcastError('INGEST_DISABLED');
          const query = readQuery(req, ['session', 'token']);
          const header = req.getHeader('authorization');
          const token = header.startsWith('Bearer ') ? header.slice(7) : query.get('token') ?? '';
          if (!timingSafeEqual(digest(token), this.tokenDigest!)) throw new BookcastError('UNAUTHORIZED');
          session = query.get('session') ?? '';
          if (!SESSION_NAME.test(session)) throw new BookcastError('INVALID_PARAMETER', 'session must be 1-64 characters of A-Z a-z 0-9 . _ : -');
          if (this.publisher !== null) throw new BookcastError('PUBLISHER_CONNECTED');
        } catch (err) {
          refuseUpgrade(res, err);
          return;
        }
        res.upgrade<PublisherData>(
          { session, client },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => {
        this.guard.opened(ws.getUserData().client);
        this.open(ws);
      },
      message: (ws, message, isBinary) => {
        if (closeIfTooBig(ws, message.byteLength, maxBatchBytes * HARD_PAYLOAD_FACTOR)) return;
        if (ws === this.publisher) this.onBatch(ws, message, isBinary);
      },
      close: (ws) => {
        this.guard.closed(ws.getUserData().client);
        if (ws === this.publisher) this.publisher = null;
      },
    });
  }

  /**
   * Front-loop work: moves queued events onto the ring and sends the ack when the durable
   * sequence moved. Returns non-zero while events still wait for ring space.
   */
  poll(): number {
    if (this.queue.length > 0) this.drainQueue();
    const durable = this.durable();
    if (durable > this.acked && this.refusal === null) {
      this.acked = durable;
      this.publisher?.send(JSON.stringify({ type: 'ack', session: this.session, sequence: durable }), false);
    }
    return this.queuedEvents;
  }

  /** True once everything accepted is on stable storage (a graceful stop waits for it). */
  settled(): boolean {
    return this.queue.length === 0 && this.durable() >= this.accepted;
  }

  closePublisher(): void {
    this.publisher?.end(1001, 'server shutting down');
  }

  health(): Record<string, unknown> {
    return {
      session: this.session,
      publisher_connected: this.publisher !== null,
      refusing: this.refusal,
      accepted_sequence: this.accepted,
      durable_sequence: this.durable(),
      queued_events: this.queuedEvents,
      ...this.counters,
    };
  }

  /** Highest sequence of the current session on stable storage. */
  private durable(): number {
    if (this.ring === null || Number.isNaN(this.journalBase)) return 0;
    const journal = this.sourceStats[SRC_DURABLE];
    const through = this.replicatedThrough === null ? journal : Math.min(journal, this.replicatedThrough());
    return Math.max(0, Math.min(this.accepted, through - this.journalBase));
  }

  private open(ws: WebSocket<PublisherData>): void {
    if (this.publisher !== null) {
      // Two upgrades raced past the check: the first one to open keeps the place.
      ws.end(4409, 'PUBLISHER_CONNECTED');
      return;
    }
    this.publisher = ws;
    const { session } = ws.getUserData();
    if (session !== this.session) this.newSession(session);
    ws.send(
      JSON.stringify({
        type: 'welcome',
        session,
        accepted_sequence: this.accepted,
        durable_sequence: this.durable(),
        max_batch_events: this.options!.maxBatchEvents,
        max_batch_bytes: this.options!.maxBatchBytes,
      }),
      false,
    );
  }

  /** A session of another name starts at sequence 1, after everything accepted so far. */
  private newSession(session: string): void {
    this.session = session;
    this.journalBase = NaN;
    this.accepted = 0;
    this.acked = 0;
    this.queue.push(session);
    this.drainQueue();
    if (this.queue.length > 0) this.frontBell?.ring();
  }

  private onBatch(ws: WebSocket<PublisherData>, message: ArrayBuffer, isBinary: boolean): void {
    const decoder = this.decoder!;
    try {
      if (message.byteLength > this.options!.maxBatchBytes) {
        throw new IngestBatchError('MESSAGE_TOO_LARGE', `a batch is at most ${this.options!.maxBatchBytes} bytes, got ${message.byteLength}`);
      }
      if (isBinary) decoder.decodeBinary(new Uint8Array(message), nowMicros());
      else decoder.decodeJson(Buffer.from(message).toString('utf8'), nowMicros());
    } catch (err) {
      if (!(err instanceof BookcastError)) throw err;
      this.refuse(ws, err.code, err.message, { event_index: err instanceof IngestBatchError ? err.eventIndex : -1 });
      return;
    }
    const first = decoder.firstSequence;
    const count = decoder.count;
    if (first > this.accepted + 1) {
      this.refuse(ws, 'SEQUENCE_GAP', `batch starts at ${first}, the next sequence is ${this.accepted + 1}`, { expected_sequence: this.accepted + 1 });
      return;
    }
    const duplicates = Math.min(count, this.accepted + 1 - first);
    this.counters.duplicates += duplicates;
    if (duplicates === count) return;
    if (this.queuedEvents + count - duplicates > MAX_QUEUED_EVENTS) {
      this.refuse(ws, 'INGEST_OVERLOADED', `${this.queuedEvents} accepted events still wait for the books`, { expected_sequence: this.accepted + 1 });
      ws.end(1013, 'INGEST_OVERLOADED');
      return;
    }
    this.counters.batches++;
    this.counters.events += count - duplicates;
    this.accepted = first + count - 1;
    const from = duplicates * EVENT_WORDS;
    const to = count * EVENT_WORDS;
    const written = this.queue.length === 0 ? this.writeEvents(decoder.words, from, to) : from;
    if (written < to) {
      // The decoder's words are reused by the next batch: what waits is copied (only under back-pressure).
      this.queue.push(decoder.words.slice(written, to));
      this.queuedEvents += (to - written) / EVENT_WORDS;
      this.frontBell?.ring();
    }
  }

  /** Copies whole events words[from..to) onto the ring while it has room; returns where it stopped. */
  private writeEvents(words: Float64Array, from: number, to: number): number {
    const ring = this.ring!;
    const f = ring.f64;
    let w = from;
    while (w < to) {
      const offset = ring.tryClaim(EVENT_BYTES, INGEST_EVENT);
      if (offset === BACK_PRESSURED) break;
      const o = offset >>> 3;
      for (let i = 0; i < EVENT_WORDS; i++) f[o + i] = words[w + i];
      ring.commitLazy();
      w += EVENT_WORDS;
    }
    ring.publish();
    return w;
  }

  private drainQueue(): void {
    const ring = this.ring!;
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (typeof head === 'string') {
        const bytes = Buffer.from(head, 'utf8');
        const offset = ring.tryClaim(bytes.length, INGEST_SESSION);
        if (offset === BACK_PRESSURED) return;
        ring.bytes.set(bytes, offset);
        ring.commit();
      } else {
        const stop = this.writeEvents(head, this.queueOffset, head.length);
        this.queuedEvents -= (stop - this.queueOffset) / EVENT_WORDS;
        if (stop < head.length) {
          this.queueOffset = stop;
          return;
        }
      }
      this.queue.shift();
      this.queueOffset = 0;
    }
  }

  private refuse(ws: WebSocket<PublisherData>, code: ErrorCode, message: string, extra: Record<string, number>): void {
    this.counters.refused++;
    ws.send(JSON.stringify({ type: 'error', code, message, ...extra }), false);
  }
}

/** Equal-length digests, so comparing them takes the same time whatever token is tried. */
function digest(token: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(token).digest());
}

function refuseUpgrade(res: HttpResponse, err: unknown): void {
  if (err instanceof BookcastError) sendError(res, err.code, err.message);
  else sendError(res, 'INTERNAL');
}
