import { CompressOptions, DISABLED, TemplatedApp, WebSocket } from 'uWebSockets.js';
import { Config, isReplay } from '../config';
import { L2_DEPTHS } from '../model/depths';
import type { Instrument } from '../model/instruments';
import { BookcastError, ErrorCode, ERRORS } from '../errors';
import { nowMicros } from '../util/clock';
import { MessageEncoder, SubscriptionStateInput } from '../wire/message-encoder';
import { formatTimestampMicros } from '../wire/timestamp';
import { errorBody } from './http';
import { Session, SessionData, SUB_LIVE } from './session';
import { FORMAT_BINARY, FORMAT_FEED_JSON, FORMAT_MARKET_DATA, StreamTable } from './streams';
import { CHANNEL_OF_DATA_TYPE, channelOf, indexOf, marketDataTypeOf, STREAM_CANDLES, STREAM_L3, streamOf } from '../model/streams';
import { INTERVAL_COUNT, INTERVALS } from '../model/intervals';
import { Subscriptions } from './subscriptions';
import type { SymbolLookup } from './symbol-lookup';
import { closeIfTooBig, payloadCeiling } from './frame-limits';
import type { UpgradeGuard } from './upgrade-guard';
import { parseClientMessage, parseJsonObject, parseMarketDataMessage, StreamRequest } from './ws-protocol';

/**
 * Heartbeat rounds are served in slices, one every this many ms: at ~25 µs a connection, 19k
 * connections make ~50 connections and ~1.2 ms a slice, the longest the front thread stops for them.
 */
export const HEARTBEAT_SLICE_MS = 2;
/** Past this many times the message rate limit in one second, the connection is closed. */
const FLOOD_FACTOR = 10;
/** Messages past --max-message-bytes are answered MESSAGE_TOO_LARGE up to this many times it, and closed (1009) beyond. */
const HARD_PAYLOAD_FACTOR = 16;

/**
 * The WebSocket endpoints: `/ws` (Data Feed JSON), `/ws?format=flatbuffers` (binary data
 * frames) and `/api/v1/market-data/stream` (the Market Data API's dialect). Control messages are
 * JSON text everywhere. Each connection is a Session; one subscription core serves all three.
 *
 * Slow consumers: uWS buffers what a socket cannot take yet. Past `softBackpressure` bytes (seen
 * on drain or at the heartbeat) the connection is parked: it leaves its topics, gets a
 * SLOW_CONSUMER notice, and once its buffer has drained to a quarter of that, every stream
 * restarts from a fresh snapshot — conflation by resync, so memory stays bounded and nobody
 * else waits. Past `maxBackpressure` uWS closes the connection.
 */
export class WsGateway {
  readonly sessions = new Set<Session>();
  /** The connections of the current heartbeat round, and the next one to serve. */
  private round: Session[] = [];
  private roundAt = 0;
  /** Connections parked for falling behind, since start (health endpoint). */
  slowConsumerResyncs = 0;
  private nextId = 1;
  private readonly encoder = new MessageEncoder();

  constructor(
    private readonly config: Config,
    private readonly symbols: SymbolLookup,
    private readonly streams: StreamTable,
    private readonly subscriptions: Subscriptions,
    private readonly instruments: readonly Instrument[],
    private readonly guard: UpgradeGuard,
  ) {}

  register(app: TemplatedApp): void {
    this.route(app, '/ws', (format) => (format === 'json' ? FORMAT_FEED_JSON : format === 'flatbuffers' ? FORMAT_BINARY : -1));
    this.route(app, '/api/v1/market-data/stream', (format) => (format === 'json' ? FORMAT_MARKET_DATA : -1));
  }

  /** One WebSocket endpoint; `formatOf` maps the `format` query parameter to FORMAT_* or -1. */
  private route(app: TemplatedApp, path: string, formatOf: (format: string) => number): void {
    const cfg = this.config;
    app.ws<SessionData>(path, {
      compression: DISABLED as CompressOptions,
      maxPayloadLength: payloadCeiling(cfg.maxMessageBytes * HARD_PAYLOAD_FACTOR),
      maxBackpressure: cfg.maxBackpressure,
      closeOnBackpressureLimit: 1,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        const format = formatOf(req.getQuery('format') ?? 'json');
        if (format < 0) {
          res.cork(() => {
            res.writeStatus('400 Bad Request').writeHeader('content-type', 'application/json')
              .end(errorBody('INVALID_PARAMETER', `unsupported format "${req.getQuery('format')}"`));
          });
          return;
        }
        const client = this.guard.admit(res, req);
        if (client === null) return;
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        res.upgrade<SessionData>({ session: new Session(this.nextId++, format), client }, key, protocol, extensions, context);
      },
      open: (ws) => {
        this.guard.opened(ws.getUserData().client);
        const session = ws.getUserData().session;
        session.ws = ws;
        this.sessions.add(session);
      },
      message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
      drain: (ws) => this.checkBackpressure(ws.getUserData().session),
      close: (ws) => {
        this.guard.closed(ws.getUserData().client);
        const session = ws.getUserData().session;
        this.subscriptions.close(session);
        session.ws = null;
        this.sessions.delete(session);
      },
    });
  }

  private onMessage(ws: WebSocket<SessionData>, message: ArrayBuffer, isBinary: boolean): void {
    if (closeIfTooBig(ws, message.byteLength, this.config.maxMessageBytes * HARD_PAYLOAD_FACTOR)) return;
    const session = ws.getUserData().session;
    const now = Date.now();
    if (now - session.windowStart >= 1000) {
      session.windowStart = now;
      session.windowCount = 0;
    }
    const count = ++session.windowCount;
    const limit = this.config.maxMessagesPerSecond;
    if (count > limit) {
      if (count > limit * FLOOD_FACTOR) {
        ws.end(1008, 'RATE_LIMITED: message flood');
      } else if (count === limit + 1) {
        this.sendError(session, new BookcastError('RATE_LIMITED', `more than ${limit} messages in one second; messages are ignored until the next second`));
      }
      return;
    }
    if (message.byteLength > this.config.maxMessageBytes) {
      this.sendError(session, new BookcastError('MESSAGE_TOO_LARGE', `messages are limited to ${this.config.maxMessageBytes} bytes`));
      return;
    }
    if (isBinary) {
      this.sendError(session, new BookcastError('BINARY_NOT_ACCEPTED'));
      return;
    }
    const text = Buffer.from(message).toString('utf8');
    if (session.format === FORMAT_MARKET_DATA) this.onMarketDataMessage(session, text);
    else this.onFeedMessage(session, text);
  }

  private onFeedMessage(session: Session, text: string): void {
    try {
      const request = parseClientMessage(text, this.symbols);
      if (request.type === 'ping') {
        this.sendText(session, JSON.stringify({ type: 'pong', id: request.id, timestamp: formatTimestampMicros(nowMicros()) }));
        return;
      }
      const joining = request.type === 'subscribe' ? this.subscribe(session, request) : [];
      if (request.type === 'unsubscribe') this.unsubscribe(session, request);
      this.sendText(
        session,
        JSON.stringify({
          type: request.type === 'subscribe' ? 'subscribed' : 'unsubscribed',
          timestamp: formatTimestampMicros(nowMicros()),
          data: {
            channels: request.channels,
            symbols: request.instruments.map((i) => i.symbol),
            depth: request.depth,
            interval: INTERVALS[request.interval ?? 0].name,
            throttle_ms: request.throttleMs,
            // The one thing that tells a replay from the live feed: data messages are the same.
            replay: isReplay(this.config.source),
          },
        }),
      );
      // Snapshots travel through the owners and arrive after this reply.
      this.join(session, joining);
    } catch (err) {
      this.sendError(session, err);
    }
  }

  private onMarketDataMessage(session: Session, text: string): void {
    let requestId: unknown = null;
    try {
      const message = parseJsonObject(text);
      requestId = message.request_id ?? null;
      const request = parseMarketDataMessage(message, this.symbols);
      if (request.type === 'ping') {
        this.sendText(session, JSON.stringify({ type: 'HEARTBEAT', request_id: requestId, payload: { subscriptions: this.states(session) }, timestamp: formatTimestampMicros(nowMicros()) }));
        return;
      }
      const joining = request.type === 'subscribe' ? this.subscribe(session, request) : [];
      if (request.type === 'unsubscribe') this.unsubscribe(session, request);
      const dataTypes = Object.keys(CHANNEL_OF_DATA_TYPE).filter((t) => request.channels.includes(CHANNEL_OF_DATA_TYPE[t]));
      this.sendText(
        session,
        JSON.stringify({
          type: request.type === 'subscribe' ? 'SUBSCRIBE' : 'UNSUBSCRIBE',
          request_id: requestId,
          payload: { status: request.type === 'subscribe' ? 'subscribed' : 'unsubscribed', symbols: request.instruments.map((i) => i.symbol), data_types: dataTypes, replay: isReplay(this.config.source) },
          timestamp: formatTimestampMicros(nowMicros()),
        }),
      );
      this.join(session, joining);
    } catch (err) {
      this.sendError(session, err, requestId);
    }
  }

  /**
   * Validates a subscribe and drops replaced L2 depths; returns the streams to join, each with
   * its throttle (ticker and candles may be conflated; diffs and trades never are).
   */
  private subscribe(session: Session, request: StreamRequest): [stream: number, throttleMs: number][] {
    const streams = this.streams;
    const wanted: [number, number][] = [];
    const replaced: number[] = [];
    const depthIndex = L2_DEPTHS.indexOf(request.depth);
    const interval = request.interval ?? 0;
    for (const ins of request.instruments) {
      for (const channel of request.channels) {
        const stream = streams.index(ins.index, streamOf(channel, channel === 'candles' ? interval : depthIndex));
        if (session.subscriptions.has(stream)) continue;
        wanted.push([stream, channel === 'ticker' || channel === 'candles' ? request.throttleMs : 0]);
        if (channel === 'l2') {
          // One L2 depth per symbol and connection: a new depth replaces the old one.
          for (let d = 0; d < L2_DEPTHS.length; d++) {
            const other = streams.index(ins.index, d);
            if (d !== depthIndex && session.subscriptions.has(other)) replaced.push(other);
          }
        }
      }
    }
    const after = session.subscriptions.size + wanted.length - replaced.length;
    if (after > this.config.maxSubscriptionsPerConnection) {
      throw new BookcastError('TOO_MANY_SUBSCRIPTIONS', `a connection may hold ${this.config.maxSubscriptionsPerConnection} subscriptions`);
    }
    for (const stream of replaced) this.subscriptions.unsubscribe(session, stream);
    return wanted;
  }

  /** Joins validated streams; called after the reply went out, since snapshots follow it. */
  private join(session: Session, streams: readonly [number, number][]): void {
    for (const [stream, throttleMs] of streams) this.subscriptions.subscribe(session, stream, throttleMs);
  }

  private unsubscribe(session: Session, request: StreamRequest): void {
    const streams = this.streams;
    for (const ins of request.instruments) {
      for (const channel of request.channels) {
        if (channel === 'l2') {
          for (let d = 0; d < L2_DEPTHS.length; d++) this.subscriptions.unsubscribe(session, streams.index(ins.index, d));
        } else if (channel === 'candles') {
          // Without an interval, every interval of the symbol.
          for (let i = 0; i < INTERVAL_COUNT; i++) {
            if (request.interval === null || request.interval === i) this.subscriptions.unsubscribe(session, streams.index(ins.index, streamOf('candles', i)));
          }
        } else {
          this.subscriptions.unsubscribe(session, streams.index(ins.index, streamOf(channel, 0)));
        }
      }
    }
  }

  /** Parks a connection that fell behind, and resumes it once its buffer drained. */
  private checkBackpressure(session: Session): void {
    const ws = session.ws;
    if (ws === null) return;
    const buffered = ws.getBufferedAmount();
    const soft = this.config.softBackpressure;
    if (!session.resyncing && buffered > soft) {
      this.subscriptions.suspend(session);
      this.slowConsumerResyncs++;
      this.sendError(session, new BookcastError('SLOW_CONSUMER', `${buffered} bytes waiting to be sent; streams will restart from snapshots`));
    } else if (session.resyncing && buffered <= soft / 4) {
      this.subscriptions.resume(session);
    }
  }

  /** Where each live subscription of a connection stands: the last sequence sent on it. */
  private states(session: Session): SubscriptionStateInput[] {
    const streams = this.streams;
    const states: SubscriptionStateInput[] = [];
    for (const [stream, sub] of session.subscriptions) {
      if (sub.state !== SUB_LIVE) continue;
      const s = streams.streamOf(stream);
      // A candle subscription names its interval: "candles:1m" (Market Data API: "OHLC:1m").
      const name = session.format === FORMAT_MARKET_DATA ? marketDataTypeOf(s) : channelOf(s);
      states.push({
        channel: s >= STREAM_CANDLES ? `${name}:${INTERVALS[indexOf(s)].name}` : name,
        symbol: this.instruments[streams.symbolOf(stream)].symbol,
        depth: s < STREAM_L3 ? L2_DEPTHS[indexOf(s)] : 0,
        // A throttled subscription has been sent less than the stream carried.
        sequence: Math.max(sub.snapshotSequence, sub.throttleMs > 0 ? sub.sentSequence : streams.lastSequence[stream]),
      });
    }
    return states;
  }

  /**
   * Called every HEARTBEAT_SLICE_MS; each call serves the next slice of the connections, so every
   * connection hears once per interval where each of its streams stands, and the front thread
   * never stops for many of them at once (19k connections in one go would hold it for half a second).
   */
  heartbeatSlice(): void {
    if (this.round.length === 0 || this.roundAt >= this.round.length) {
      this.round = [...this.sessions];
      this.roundAt = 0;
    }
    const slices = Math.max(1, Math.round(this.config.heartbeatMs / HEARTBEAT_SLICE_MS));
    const end = Math.min(this.round.length, this.roundAt + Math.ceil(this.round.length / slices));
    const timestamp = nowMicros();
    for (; this.roundAt < end; this.roundAt++) {
      const session = this.round[this.roundAt];
      if (session.closed || session.ws === null) continue;
      this.checkBackpressure(session);
      const states = this.states(session);
      const ws = session.ws;
      if (session.format === FORMAT_BINARY) {
        const bytes = this.encoder.heartbeat(timestamp, states);
        ws.cork(() => ws.send(bytes, true));
      } else if (session.format === FORMAT_FEED_JSON) {
        const text = JSON.stringify({ type: 'heartbeat', timestamp: formatTimestampMicros(timestamp), data: { subscriptions: states } });
        ws.cork(() => ws.send(text, false));
      } else {
        const text = JSON.stringify({ type: 'HEARTBEAT', payload: { subscriptions: states }, timestamp: formatTimestampMicros(timestamp) });
        ws.cork(() => ws.send(text, false));
      }
    }
  }

  private sendText(session: Session, text: string): void {
    session.ws?.send(text, false);
  }

  /** An error in the connection's dialect; anything but a BookcastError is INTERNAL. */
  private sendError(session: Session, err: unknown, requestId: unknown = null): void {
    const code: ErrorCode = err instanceof BookcastError ? err.code : 'INTERNAL';
    const message = err instanceof BookcastError ? err.message : ERRORS.INTERNAL.message;
    const timestamp = formatTimestampMicros(nowMicros());
    this.sendText(
      session,
      session.format === FORMAT_MARKET_DATA
        ? JSON.stringify({ type: 'ERROR', request_id: requestId, payload: { code, message }, timestamp })
        : JSON.stringify({ type: 'error', timestamp, data: { code, message } }),
    );
  }

  closeAll(): void {
    for (const session of this.sessions) session.ws?.end(1001, 'server shutting down');
  }
}
