import { CompressOptions, DISABLED, TemplatedApp, WebSocket } from 'uWebSockets.js';
import { Config, isReplay } from '../config';
import { L2_DEPTHS } from '../model/depths';
import type { Instrument } from '../model/instruments';
import { BookcastError, ErrorCode, ERRORS } from '../errors';
import { nowMicros } from '../util/clock';
import { MessageEncoder, SubscriptionStateInput } from '../wire/message-encoder';
import { formatTimestampMicros } from '../wire/timestamp';
import { errorBody } from './http';
import { Session, SessionBudget, SessionDialect, SUB_LIVE } from '../distribution/session';
import { FORMAT_BINARY, FORMAT_FEED_JSON, FORMAT_MARKET_DATA, StreamTable } from '../distribution/streams';
import { CHANNEL_OF_DATA_TYPE, channelOf, indexOf, marketDataTypeOf, STREAM_CANDLES, STREAM_L3, streamOf } from '../model/streams';
import { INTERVAL_COUNT, INTERVALS } from '../model/intervals';
import type { SessionHub } from '../distribution/session-hub';
import { SessionData, UwsTransport } from './uws-outlet';
import type { SymbolLookup } from './symbol-lookup';
import { closeIfTooBig, payloadCeiling } from './frame-limits';
import type { UpgradeGuard } from './upgrade-guard';
import type { CallerResolver } from './admission';
import { parseClientMessage, parseJsonObject, parseMarketDataMessage, StreamRequest } from './ws-protocol';

/** Past this many times the message rate limit in one second, the connection is closed. */
const FLOOD_FACTOR = 10;
/** Messages past --max-message-bytes are answered MESSAGE_TOO_LARGE up to this many times it, and closed (1009) beyond. */
const HARD_PAYLOAD_FACTOR = 16;
/**
 * uWS's own backpressure limit, a last resort only: the slow-consumer ladder (SessionHub) acts at
 * --max-backpressure, looked at after every poll of the out-rings, so uWS must not cut a
 * connection (1006, no notice) first. The margin covers what one poll can add (a few large snapshots).
 */
const UWS_LIMIT_FACTOR = 2;
const UWS_LIMIT_MARGIN = 64 * 1024 * 1024;
// --max-backpressure is at most 2^30 (config.ts), so the limit stays within uWS's unsigned 32 bits.

/**
 * The WebSocket endpoints: `/ws` (Data Feed JSON), `/ws?format=flatbuffers` (binary data
 * frames) and `/api/v1/market-data/stream` (the Market Data API's dialect). Control messages are
 * JSON text everywhere. Each connection is a Session of the distribution core (SessionHub), which
 * does the joins, the fan-out and the slow-consumer ladder for every transport; this class
 * speaks the dialects (parsing requests, rendering replies, notices and heartbeats).
 */
export class WsGateway implements SessionDialect {
  private nextId = 1;
  private readonly encoder = new MessageEncoder();

  constructor(
    private readonly config: Config,
    private readonly symbols: SymbolLookup,
    private readonly streams: StreamTable,
    private readonly hub: SessionHub,
    private readonly instruments: readonly Instrument[],
    private readonly guard: UpgradeGuard,
    /** Who opens a connection (auth/ with keys and tokens; the peer address until then): its tier sets the session's budget. */
    private readonly callers: CallerResolver,
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
      maxBackpressure: cfg.maxBackpressure * UWS_LIMIT_FACTOR + UWS_LIMIT_MARGIN,
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
        let budget: SessionBudget;
        try {
          const { limits } = this.callers(req, Buffer.from(res.getRemoteAddressAsText()).toString());
          budget = { controlPerSecond: limits.controlPerSecond, maxSubscriptions: limits.maxSubscriptions };
        } catch (err) {
          const code: ErrorCode = err instanceof BookcastError ? err.code : 'INTERNAL';
          res.cork(() => {
            res.writeStatus(`${ERRORS[code].status} ${code}`).writeHeader('content-type', 'application/json').end(errorBody(code, err instanceof BookcastError ? err.message : undefined));
          });
          return;
        }
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        const transport = new UwsTransport();
        res.upgrade<SessionData>({ session: new Session(this.nextId++, format, transport, this, budget), transport, client }, key, protocol, extensions, context);
      },
      open: (ws) => {
        const data = ws.getUserData();
        this.guard.opened(data.client);
        data.transport.ws = ws;
        this.hub.open(data.session);
      },
      message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
      drain: (ws) => this.hub.check(ws.getUserData().session),
      close: (ws) => {
        const data = ws.getUserData();
        this.guard.closed(data.client);
        this.hub.close(data.session);
        data.transport.ws = null;
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
    const limit = session.budget.controlPerSecond;
    if (count > limit) {
      if (count > limit * FLOOD_FACTOR) {
        session.transport.close(1008, 'RATE_LIMITED: message flood');
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
            limits: this.budgetLeft(session, joining),
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
          payload: {
            status: request.type === 'subscribe' ? 'subscribed' : 'unsubscribed',
            symbols: request.instruments.map((i) => i.symbol),
            data_types: dataTypes,
            replay: isReplay(this.config.source),
            limits: this.budgetLeft(session, joining),
          },
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
   * its throttle (ticker and candles may be conflated; diffs and trades never are). A stream the
   * session already has is joined again: the hub resynchronises it (gap recovery).
   */
  private subscribe(session: Session, request: StreamRequest): [stream: number, throttleMs: number][] {
    const streams = this.streams;
    const wanted: [number, number][] = [];
    let adding = 0;
    const replaced: number[] = [];
    const depthIndex = L2_DEPTHS.indexOf(request.depth);
    const interval = request.interval ?? 0;
    for (const ins of request.instruments) {
      for (const channel of request.channels) {
        const stream = streams.index(ins.index, streamOf(channel, channel === 'candles' ? interval : depthIndex));
        if (!session.subscriptions.has(stream)) adding++;
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
    this.hub.admit(session, adding, replaced.length);
    for (const stream of replaced) this.hub.unsubscribe(session, stream);
    return wanted;
  }

  /**
   * What the connection has left of its budget once `joining` is joined: subscriptions, and
   * control messages in the current second (the reply counts the request it answers).
   */
  private budgetLeft(session: Session, joining: readonly [number, number][]): object {
    let adding = 0;
    for (const [stream] of joining) if (!session.subscriptions.has(stream)) adding++;
    const { maxSubscriptions, controlPerSecond } = session.budget;
    return {
      subscriptions: session.subscriptions.size + adding,
      max_subscriptions: maxSubscriptions,
      subscriptions_remaining: Math.max(0, maxSubscriptions - session.subscriptions.size - adding),
      messages_per_second: controlPerSecond,
      messages_remaining: Math.max(0, controlPerSecond - session.windowCount),
    };
  }

  /** Joins validated streams; called after the reply went out, since snapshots follow it. */
  private join(session: Session, streams: readonly [number, number][]): void {
    for (const [stream, throttleMs] of streams) this.hub.subscribe(session, stream, throttleMs);
  }

  private unsubscribe(session: Session, request: StreamRequest): void {
    const streams = this.streams;
    for (const ins of request.instruments) {
      for (const channel of request.channels) {
        if (channel === 'l2') {
          for (let d = 0; d < L2_DEPTHS.length; d++) this.hub.unsubscribe(session, streams.index(ins.index, d));
        } else if (channel === 'candles') {
          // Without an interval, every interval of the symbol.
          for (let i = 0; i < INTERVAL_COUNT; i++) {
            if (request.interval === null || request.interval === i) this.hub.unsubscribe(session, streams.index(ins.index, streamOf('candles', i)));
          }
        } else {
          this.hub.unsubscribe(session, streams.index(ins.index, streamOf(channel, 0)));
        }
      }
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
        sequence: this.hub.sentSequence(stream, sub),
      });
    }
    return states;
  }

  /** SessionDialect: a heartbeat in the connection's dialect (HeartbeatRounds decides when). */
  heartbeat(session: Session, timestamp: number): void {
    const states = this.states(session);
    if (session.format === FORMAT_BINARY) {
      session.transport.send(this.encoder.heartbeat(timestamp, states), true);
    } else if (session.format === FORMAT_FEED_JSON) {
      session.transport.send(JSON.stringify({ type: 'heartbeat', timestamp: formatTimestampMicros(timestamp), data: { subscriptions: states } }), false);
    } else {
      session.transport.send(JSON.stringify({ type: 'HEARTBEAT', payload: { subscriptions: states }, timestamp: formatTimestampMicros(timestamp) }), false);
    }
  }

  /** SessionDialect: a notice from the core (SLOW_CONSUMER), as an error message of the dialect. */
  notice(session: Session, code: ErrorCode, message: string): void {
    this.sendError(session, new BookcastError(code, message));
  }

  private sendText(session: Session, text: string): void {
    session.transport.send(text, false);
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
    for (const session of this.hub.sessions) session.transport.close(1001, 'server shutting down');
  }
}
