import { BookcastError } from '../errors';
import { log } from '../util/log';
import type { Instrument } from '../model/instruments';
import { MSG_CANDLE } from '../model/out-records';
import type { JsonFormat } from '../wire/json-renderer';
import { renderJson } from '../wire/json-renderer';
import { wrapMarketData } from '../wire/market-data-json';
import { MessageEncoder } from '../wire/message-encoder';
import { candleIsFinal } from './record-reader';
import type { Conflator } from './conflator';
import type { OutMessage, StreamConsumer } from './consumer';
import type { Distributor } from './distributor';
import type { RecentTrades } from './recent-trades';
import { RecentMessages, RESUME_REPLAY, RESUME_TOO_OLD } from './recent-messages';
import { Outlet, Session, Subscription, SUB_LIVE, SUB_PENDING, SUB_RESYNC } from './session';
import { marketDataTypeOf, STREAM_TRADES } from '../model/streams';
import { FORMAT_BINARY, FORMAT_FEED_JSON, FORMAT_FIX, FORMATS, StreamTable } from './streams';

/**
 * Close code for a connection the slow-consumer ladder gives up on (RFC 6455 1013, "try again
 * later"): it passed the hard limit, or it missed more trades than the tape still holds.
 */
export const CLOSE_SLOW_CONSUMER = 1013;
/** Connections whose buffers are looked at per watch() call: bounds the time one call takes. */
const WATCH_SLICE = 512;

/**
 * Told of each message the hub hands to live sessions (once, whatever the formats), on the front
 * thread, synchronously, right after the outlets got it: metrics time event-to-send here. It
 * must not keep `m` and should cost no more than a few array stores.
 */
export interface DeliveryObserver {
  delivered(m: OutMessage): void;
}

export interface SessionLimits {
  /** Buffered bytes past which a session is parked (notice, then resync). */
  softBackpressure: number;
  /** Buffered bytes past which it is closed (CLOSE_SLOW_CONSUMER). */
  maxBackpressure: number;
}

/**
 * Every session of every transport, and what each follows. The hub is one consumer of the
 * Distributor: it follows a stream while any session wants it, and does, once for every
 * transport, what a session needs:
 *
 * - the snapshot-then-diff join: a session waits (PENDING) for the next snapshot of its stream,
 *   gets it, and joins its outlet in the same call, between two messages, so it misses nothing
 *   after the snapshot and gets nothing before it. A repeated subscribe resynchronises the same way;
 * - delivery: a message goes to each format's outlet that has live sessions on the stream, as the
 *   owner's bytes (FlatBuffers, and FIX, whose outlet renders them) or as JSON rendered once for
 *   both JSON dialects;
 * - the slow-consumer ladder (watch/check): past the soft limit the session is parked (it leaves
 *   its outlets and gets a SLOW_CONSUMER notice); drained to a quarter of it, its streams restart
 *   from fresh snapshots and its trades resume from the last one it got, the ones printed
 *   meanwhile first (from the recent-trades tape); past the hard limit, or when the tape no
 *   longer reaches back far enough, the connection is closed with CLOSE_SLOW_CONSUMER;
 * - the per-session subscription limit (the session's budget, from its caller's tier).
 */
export class SessionHub implements StreamConsumer {
  readonly sessions = new Set<Session>();
  /** Live (outlet) sessions by format, then stream: a format nobody reads costs nothing. */
  private readonly live: Int32Array[] = [];
  /** Sessions waiting for a stream's next snapshot. */
  private readonly pending: Session[][] = [];
  /** The hub follows the stream in the Distributor. */
  private readonly following: Uint8Array;
  /** The message being delivered, rendered to JSON at most once. */
  private json: string | null = null;
  private jsonSerial = -1;
  private watchList: Session[] = [];
  private watchAt = 0;
  /** Sessions came or went since watchList was made. */
  private watchStale = false;
  private readonly encoder = new MessageEncoder();
  private readonly symbolBytes: Uint8Array[];
  /** Messages handed to outlets since start, sessions parked, sessions closed as too slow (health). */
  published = 0;
  /** Messages handed to outlets by message type and format: [MSG_* × FORMATS + FORMAT_*] (metrics). */
  readonly publishedBy = new Float64Array((MSG_CANDLE + 1) * FORMATS);
  slowConsumerResyncs = 0;
  slowConsumerCloses = 0;
  /** Metrics' latency recorder, when metrics are on. */
  observer: DeliveryObserver | null = null;
  /**
   * --sign-snapshots: the frame that follows every snapshot sent to a WebSocket session (its
   * signature, limits/snapshot-signer.ts), or null. Made once per snapshot and format, whatever
   * the number of sessions joining on it. FIX sessions get none (FIX has no place for it).
   */
  snapshotSignature: ((message: Uint8Array | string, format: number) => string) | null = null;
  private signedSerial = -1;
  private signedFormat = -1;
  private signedFrame = '';

  constructor(
    private readonly distributor: Distributor,
    private readonly streams: StreamTable,
    /** One outlet per FORMAT_*. */
    private readonly outlets: readonly Outlet[],
    private readonly formats: readonly JsonFormat[],
    private readonly conflator: Conflator,
    private readonly trades: RecentTrades,
    private readonly limits: SessionLimits,
    instruments: readonly Instrument[],
    /** The recent-message buffer resumes replay from (the Distributor keeps it). */
    private readonly recent: RecentMessages,
  ) {
    for (let f = 0; f < FORMATS; f++) this.live.push(new Int32Array(streams.count));
    for (let i = 0; i < streams.count; i++) this.pending.push([]);
    this.following = new Uint8Array(streams.count);
    this.symbolBytes = instruments.map((i) => new TextEncoder().encode(i.symbol));
  }

  open(session: Session): void {
    this.sessions.add(session);
    this.watchStale = true;
  }

  /** The connection is gone; the transport has already dropped it from every topic. */
  close(session: Session): void {
    session.closed = true;
    for (const [stream, sub] of session.subscriptions) this.leave(session, stream, sub, false);
    session.subscriptions.clear();
    this.sessions.delete(session);
    this.watchStale = true;
  }

  /** Throws TOO_MANY_SUBSCRIPTIONS unless the session may hold `adding` more, `removing` fewer (its budget). */
  admit(session: Session, adding: number, removing: number): void {
    const max = session.budget.maxSubscriptions;
    if (session.subscriptions.size + adding - removing > max) {
      throw new BookcastError('TOO_MANY_SUBSCRIPTIONS', `a connection may hold ${max} subscriptions`);
    }
  }

  /**
   * `throttleMs` > 0 conflates the stream (ticker and candles; see Conflator). Subscribing again
   * to a stream the session has resynchronises it: a fresh snapshot, then the diffs after it.
   */
  subscribe(session: Session, stream: number, throttleMs: number): void {
    const existing = session.subscriptions.get(stream);
    if (existing !== undefined) {
      if (existing.state === SUB_LIVE && this.streams.needsSnapshot(stream)) {
        this.leave(session, stream, existing, true);
        existing.throttleMs = throttleMs;
        this.join(session, stream, existing);
      }
      return;
    }
    const sub = new Subscription();
    sub.throttleMs = throttleMs;
    session.subscriptions.set(stream, sub);
    if (session.parked) {
      sub.state = SUB_RESYNC;
      sub.parkedAfter = this.lastTradeId(stream);
      return;
    }
    this.join(session, stream, sub);
  }

  /**
   * Subscribes a session that was following the stream elsewhere (another process, or before a
   * reconnect) and last got sequence `after` on it. When the recent buffer holds every message
   * after `after`, they are sent now and the session joins the live stream in the same call, so
   * the next message it gets is the one after the last replayed: no gap, no duplicate. Otherwise
   * it subscribes as usual (a fresh snapshot follows). `announce` is told how first (RESUME_*
   * and the number of messages replayed), before anything is sent. A parked session (slow
   * consumer) is too far behind for a replay: too_old. The caller has checked that the session
   * does not hold the stream yet (INVALID_RESUME otherwise).
   */
  resumeFrom(session: Session, stream: number, throttleMs: number, after: number, announce: (status: number, replayed: number) => void): void {
    const recent = this.recent;
    const status = session.parked ? RESUME_TOO_OLD : recent.check(stream, after);
    if (status !== RESUME_REPLAY) {
      announce(status, 0);
      this.subscribe(session, stream, throttleMs);
      return;
    }
    announce(status, recent.countAfter(stream, after));
    const format = session.format;
    const binary = format === FORMAT_BINARY;
    const symbol = this.streams.symbolOf(stream);
    recent.replay(stream, after, (bytes) => session.transport.send(this.render(bytes, symbol, stream, format), binary));
    const sub = new Subscription();
    sub.throttleMs = throttleMs;
    sub.state = SUB_LIVE;
    // What it has now: heartbeats and a later server_shutdown report from here.
    sub.snapshotSequence = recent.newestSequence(stream);
    session.subscriptions.set(stream, sub);
    if (throttleMs > 0) {
      sub.sentAt = Date.now();
      this.conflator.add(session, stream, sub);
    } else {
      this.outlets[format].add(session, stream);
      this.live[format][stream]++;
    }
    if (this.following[stream] === 0) {
      // The buffer covers the stream, so it flows: the hub joins it live, without a snapshot.
      this.following[stream] = 1;
      this.distributor.followFlowing(this, stream);
    }
  }

  unsubscribe(session: Session, stream: number): void {
    const sub = session.subscriptions.get(stream);
    if (sub === undefined) return;
    session.subscriptions.delete(stream);
    this.leave(session, stream, sub, true);
  }

  onSnapshot(m: OutMessage, reset: boolean): void {
    const stream = m.key;
    if (reset) {
      // A book reset: every live session restarts from this snapshot.
      for (let f = 0; f < FORMATS; f++) {
        if (this.live[f][stream] === 0) continue;
        const payload = this.payload(m, f);
        this.outlets[f].publish(stream, payload, f === FORMAT_BINARY);
        if (this.snapshotSignature !== null && f !== FORMAT_FIX) this.outlets[f].publish(stream, this.signatureOf(m, f, payload), false);
      }
    }
    const waiting = this.pending[stream];
    if (waiting.length === 0) return;
    const joining = waiting.splice(0);
    for (const session of joining) {
      const sub = session.subscriptions.get(stream);
      if (session.closed || sub === undefined || sub.state !== SUB_PENDING) continue;
      sub.state = SUB_LIVE;
      sub.snapshotSequence = m.sequence;
      const format = session.format;
      const payload = this.payload(m, format);
      session.transport.send(payload, format === FORMAT_BINARY);
      if (this.snapshotSignature !== null && format !== FORMAT_FIX) session.transport.send(this.signatureOf(m, format, payload), false);
      if (sub.throttleMs > 0) {
        sub.sentAt = Date.now();
        this.conflator.add(session, stream, sub);
      } else {
        this.outlets[format].add(session, stream);
        this.live[format][stream]++;
      }
    }
    this.leaveIfIdle(stream);
  }

  onMessage(m: OutMessage): void {
    const stream = m.key;
    if (this.conflator.throttled[stream] > 0) {
      this.conflator.offer(stream, m.sequence, m.bytes(), m.kind === MSG_CANDLE && candleIsFinal(m));
    }
    let sent = false;
    for (let f = 0; f < FORMATS; f++) {
      if (this.live[f][stream] > 0) {
        this.outlets[f].publish(stream, this.payload(m, f), f === FORMAT_BINARY);
        this.published++;
        this.publishedBy[m.kind * FORMATS + f]++;
        sent = true;
      }
    }
    if (sent && this.observer !== null) this.observer.delivered(m);
  }

  /**
   * Looks at the next slice of sessions' buffers (the front loop calls it after each poll, so a
   * session is checked long before a transport's own limit could act).
   */
  watch(): void {
    if (this.watchAt >= this.watchList.length) {
      // Remade only when sessions came or went: a steady loop allocates nothing here.
      if (this.watchStale) {
        this.watchList = [...this.sessions];
        this.watchStale = false;
      }
      this.watchAt = 0;
    }
    const end = Math.min(this.watchList.length, this.watchAt + WATCH_SLICE);
    for (; this.watchAt < end; this.watchAt++) {
      const session = this.watchList[this.watchAt];
      if (!session.closed) this.check(session);
    }
  }

  /** One step of the slow-consumer ladder for one session (also on a transport's drain). */
  check(session: Session): void {
    const buffered = session.transport.bufferedAmount();
    const limits = this.limits;
    if (buffered > limits.maxBackpressure) {
      this.closeSlow(session, `${buffered} bytes waiting to be sent`);
    } else if (!session.parked && buffered > limits.softBackpressure) {
      // The notice goes first: a send flushes what the outlet still holds for the session (uWS
      // queues topic messages per subscriber and discards them when it leaves its last topic), so
      // the trades it was published before parking reach it, and parkedAfter is true.
      session.dialect.notice(session, 'SLOW_CONSUMER', `${buffered} bytes waiting to be sent; streams will restart from snapshots`);
      this.park(session);
      this.slowConsumerResyncs++;
      log.debug({ conn: session.id, buffered }, 'slow consumer parked');
    } else if (session.parked && buffered <= limits.softBackpressure / 4) {
      this.unpark(session);
    }
  }

  /** The sequence a session was last sent on a subscription (heartbeats). */
  sentSequence(stream: number, sub: Subscription): number {
    return Math.max(sub.snapshotSequence, sub.throttleMs > 0 ? sub.sentSequence : this.streams.lastSequence[stream]);
  }

  /** Stops sending to a session that fell behind; its streams restart from snapshots later. */
  private park(session: Session): void {
    session.parked = true;
    for (const [stream, sub] of session.subscriptions) {
      if (sub.state === SUB_RESYNC) continue;
      // What it was sent last: the resync sends trades from there.
      sub.parkedAfter = this.lastTradeId(stream);
      this.leave(session, stream, sub, true);
      sub.state = SUB_RESYNC;
    }
  }

  /** The session drained: trades resume where it left them, every other stream from a snapshot. */
  private unpark(session: Session): void {
    session.parked = false;
    for (const [stream, sub] of session.subscriptions) {
      if (sub.state !== SUB_RESYNC) continue;
      if (this.streams.streamOf(stream) === STREAM_TRADES && !this.replayTrades(session, stream, sub)) {
        this.closeSlow(session, 'more trades were missed than the server keeps');
        return;
      }
      this.join(session, stream, sub);
    }
  }

  /** The trade a live trades subscription was sent last (the tape records before followers are served). */
  private lastTradeId(stream: number): number {
    return this.streams.streamOf(stream) === STREAM_TRADES ? this.trades.lastId(this.streams.symbolOf(stream)) : 0;
  }

  /** Sends the trades printed after `sub.parkedAfter`; false when the tape does not reach back that far. */
  private replayTrades(session: Session, stream: number, sub: Subscription): boolean {
    const symbol = this.streams.symbolOf(stream);
    const missed = this.trades.after(symbol, sub.parkedAfter);
    if (missed === null) return false;
    const format = session.format;
    for (const t of missed) {
      const bytes = this.encoder.trade(this.symbolBytes[symbol], t.sequence, t.timestamp, t.tradeId, t.price, t.size, t.side, t.makerOrderId);
      session.transport.send(this.render(bytes, symbol, stream, format), format === FORMAT_BINARY);
    }
    return true;
  }

  private closeSlow(session: Session, why: string): void {
    this.slowConsumerCloses++;
    log.info({ conn: session.id, code: 'SLOW_CONSUMER' }, `closing a slow consumer: ${why}`);
    session.transport.close(CLOSE_SLOW_CONSUMER, `SLOW_CONSUMER: ${why}`);
  }

  private join(session: Session, stream: number, sub: Subscription): void {
    if (!this.streams.needsSnapshot(stream)) {
      sub.state = SUB_LIVE;
      this.outlets[session.format].add(session, stream);
      this.live[session.format][stream]++;
      this.follow(stream, false);
      return;
    }
    sub.state = SUB_PENDING;
    this.pending[stream].push(session);
    this.follow(stream, true);
  }

  private follow(stream: number, snapshot: boolean): void {
    if (this.following[stream] === 0) {
      this.following[stream] = 1;
      this.distributor.follow(this, stream);
    } else if (snapshot) {
      this.distributor.resnapshot(this, stream);
    }
  }

  private leave(session: Session, stream: number, sub: Subscription, open: boolean): void {
    if (sub.state === SUB_LIVE && sub.throttleMs > 0) {
      this.conflator.remove(session, stream);
    } else if (sub.state === SUB_LIVE) {
      this.outlets[session.format].remove(session, stream, open);
      this.live[session.format][stream]--;
    } else if (sub.state === SUB_PENDING) {
      const waiting = this.pending[stream];
      const at = waiting.indexOf(session);
      if (at >= 0) waiting.splice(at, 1);
    }
    this.leaveIfIdle(stream);
  }

  /** No session follows or waits for the stream: the hub stops following it. */
  private leaveIfIdle(stream: number): void {
    if (this.following[stream] === 0 || this.pending[stream].length > 0 || this.conflator.throttled[stream] > 0) return;
    for (let f = 0; f < FORMATS; f++) if (this.live[f][stream] > 0) return;
    this.following[stream] = 0;
    this.distributor.leave(this, stream);
  }

  /** The signature frame of a snapshot in a format, made once for every session joining on it. */
  private signatureOf(m: OutMessage, format: number, payload: Uint8Array | string): string {
    if (this.signedSerial !== m.serial || this.signedFormat !== format) {
      this.signedFrame = this.snapshotSignature!(payload, format);
      this.signedSerial = m.serial;
      this.signedFormat = format;
    }
    return this.signedFrame;
  }

  /** The message in a format: the owner's bytes, or its JSON rendered once for both dialects. */
  private payload(m: OutMessage, format: number): Uint8Array | string {
    if (format === FORMAT_BINARY || format === FORMAT_FIX) return m.bytes();
    if (this.jsonSerial !== m.serial || this.json === null) {
      this.json = renderJson(m.bytes(), this.formats[m.symbol]);
      this.jsonSerial = m.serial;
    }
    return format === FORMAT_FEED_JSON ? this.json : wrapMarketData(this.json, marketDataTypeOf(m.stream));
  }

  private render(bytes: Uint8Array, symbol: number, stream: number, format: number): Uint8Array | string {
    if (format === FORMAT_BINARY || format === FORMAT_FIX) return bytes;
    const json = renderJson(bytes, this.formats[symbol]);
    return format === FORMAT_FEED_JSON ? json : wrapMarketData(json, marketDataTypeOf(this.streams.streamOf(stream)));
  }
}
