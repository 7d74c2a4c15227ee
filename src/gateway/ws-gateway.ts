import { CompressOptions, DISABLED, TemplatedApp, WebSocket } from 'uWebSockets.js';
import type { Config } from '../config';
import { L2_DEPTHS } from '../engine/depths';
import type { Instrument } from '../engine/instruments';
import { BookcastError, ErrorCode, ERRORS } from '../errors';
import { nowMicros } from '../util/clock';
import { MessageEncoder, SubscriptionStateInput } from '../wire/message-encoder';
import { formatTimestampMicros } from '../wire/timestamp';
import { errorBody } from './http';
import { Session, SessionData, SUB_LIVE } from './session';
import { channelOf, FORMAT_BINARY, FORMAT_FEED_JSON, SLOT_L3, slotOf, StreamTable } from './streams';
import { Subscriptions } from './subscriptions';
import type { SymbolLookup } from './symbol-lookup';
import { parseClientMessage, StreamRequest } from './ws-protocol';

/** Past this many times the message rate limit in one second, the connection is closed. */
const FLOOD_FACTOR = 10;
/** uWS closes a connection whose single message exceeds this; ours answer MESSAGE_TOO_LARGE below it. */
const HARD_PAYLOAD_FACTOR = 16;

/**
 * The WebSocket endpoint `/ws` (JSON) and `/ws?format=flatbuffers` (binary data frames). Control
 * messages are JSON text in both formats. Each connection is a Session; the subscription core
 * decides what it receives.
 *
 * Slow consumers: uWS buffers what a socket cannot take yet. Past `softBackpressure` bytes (seen
 * on drain or at the heartbeat) the connection is parked: it leaves its topics, gets a
 * SLOW_CONSUMER notice, and once its buffer has drained to a quarter of that, every stream
 * restarts from a fresh snapshot — conflation by resync, so memory stays bounded and nobody
 * else waits. Past `maxBackpressure` uWS closes the connection.
 */
export class WsGateway {
  readonly sessions = new Set<Session>();
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
  ) {}

  register(app: TemplatedApp): void {
    const cfg = this.config;
    app.ws<SessionData>('/ws', {
      compression: DISABLED as CompressOptions,
      maxPayloadLength: cfg.maxMessageBytes * HARD_PAYLOAD_FACTOR,
      maxBackpressure: cfg.maxBackpressure,
      closeOnBackpressureLimit: 1,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        const format = req.getQuery('format') ?? 'json';
        if (format !== 'json' && format !== 'flatbuffers') {
          res.cork(() => {
            res.writeStatus('400 Bad Request').writeHeader('content-type', 'application/json')
              .end(errorBody('INVALID_PARAMETER', 'format must be json or flatbuffers'));
          });
          return;
        }
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        const address = Buffer.from(res.getRemoteAddressAsText()).toString();
        const session = new Session(this.nextId++, format === 'flatbuffers' ? FORMAT_BINARY : FORMAT_FEED_JSON, address);
        res.upgrade<SessionData>({ session }, key, protocol, extensions, context);
      },
      open: (ws) => {
        const session = ws.getUserData().session;
        session.ws = ws;
        this.sessions.add(session);
      },
      message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
      drain: (ws) => this.checkBackpressure(ws.getUserData().session),
      close: (ws) => {
        const session = ws.getUserData().session;
        this.subscriptions.close(session);
        session.ws = null;
        this.sessions.delete(session);
      },
    });
  }

  private onMessage(ws: WebSocket<SessionData>, message: ArrayBuffer, isBinary: boolean): void {
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
        this.sendError(session, 'RATE_LIMITED', `more than ${limit} messages in one second; messages are ignored until the next second`);
      }
      return;
    }
    if (message.byteLength > this.config.maxMessageBytes) {
      this.sendError(session, 'MESSAGE_TOO_LARGE', `messages are limited to ${this.config.maxMessageBytes} bytes`);
      return;
    }
    if (isBinary) {
      this.sendError(session, 'BINARY_NOT_ACCEPTED');
      return;
    }
    try {
      const request = parseClientMessage(Buffer.from(message).toString('utf8'), this.symbols);
      if (request.type === 'ping') {
        this.sendText(session, JSON.stringify({ type: 'pong', id: request.id, timestamp: formatTimestampMicros(nowMicros()) }));
      } else if (request.type === 'subscribe') {
        this.subscribe(session, request);
      } else {
        this.unsubscribe(session, request);
      }
    } catch (err) {
      if (err instanceof BookcastError) this.sendError(session, err.code, err.message);
      else this.sendError(session, 'INTERNAL');
    }
  }

  private subscribe(session: Session, request: StreamRequest): void {
    const streams = this.streams;
    const wanted: number[] = [];
    const replaced: number[] = [];
    const depthIndex = L2_DEPTHS.indexOf(request.depth);
    for (const ins of request.instruments) {
      for (const channel of request.channels) {
        const stream = streams.index(ins.index, slotOf(channel, depthIndex));
        if (session.subscriptions.has(stream)) continue;
        wanted.push(stream);
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
    // The reply goes out before any snapshot: snapshots travel through the owner and come back later.
    this.sendText(
      session,
      JSON.stringify({
        type: 'subscribed',
        timestamp: formatTimestampMicros(nowMicros()),
        data: { channels: request.channels, symbols: request.instruments.map((i) => i.symbol), depth: request.depth },
      }),
    );
    for (const stream of replaced) this.subscriptions.unsubscribe(session, stream);
    for (const stream of wanted) this.subscriptions.subscribe(session, stream);
  }

  private unsubscribe(session: Session, request: StreamRequest): void {
    const streams = this.streams;
    for (const ins of request.instruments) {
      for (const channel of request.channels) {
        if (channel === 'l2') {
          for (let d = 0; d < L2_DEPTHS.length; d++) this.subscriptions.unsubscribe(session, streams.index(ins.index, d));
        } else {
          this.subscriptions.unsubscribe(session, streams.index(ins.index, slotOf(channel, 0)));
        }
      }
    }
    this.sendText(
      session,
      JSON.stringify({
        type: 'unsubscribed',
        timestamp: formatTimestampMicros(nowMicros()),
        data: { channels: request.channels, symbols: request.instruments.map((i) => i.symbol) },
      }),
    );
  }

  /** Parks a connection that fell behind, and resumes it once its buffer drained. */
  private checkBackpressure(session: Session): void {
    const ws = session.ws;
    if (ws === null) return;
    const buffered = ws.getBufferedAmount();
    const soft = this.config.softBackpressure;
    if (!session.resyncing && buffered > soft) {
      this.subscriptions.park(session);
      this.slowConsumerResyncs++;
      this.sendError(session, 'SLOW_CONSUMER', `${buffered} bytes waiting to be sent; streams will restart from snapshots`);
    } else if (session.resyncing && buffered <= soft / 4) {
      this.subscriptions.resume(session);
    }
  }

  /** Once per heartbeat interval: every connection hears where each of its streams stands. */
  heartbeat(): void {
    const streams = this.streams;
    const timestamp = nowMicros();
    for (const session of this.sessions) {
      if (session.closed || session.ws === null) continue;
      this.checkBackpressure(session);
      const states: SubscriptionStateInput[] = [];
      for (const [stream, sub] of session.subscriptions) {
        if (sub.state !== SUB_LIVE) continue;
        const slot = streams.slotOf(stream);
        states.push({
          channel: channelOf(slot),
          symbol: this.instruments[streams.symbolOf(stream)].symbol,
          depth: slot < SLOT_L3 ? L2_DEPTHS[slot] : 0,
          sequence: Math.max(sub.snapshotSequence, streams.lastSequence[stream]),
        });
      }
      const ws = session.ws;
      if (session.format === FORMAT_BINARY) {
        const bytes = this.encoder.heartbeat(timestamp, states);
        ws.cork(() => ws.send(bytes, true));
      } else {
        const text = JSON.stringify({ type: 'heartbeat', timestamp: formatTimestampMicros(timestamp), data: { subscriptions: states } });
        ws.cork(() => ws.send(text, false));
      }
    }
  }

  private sendText(session: Session, text: string): void {
    session.ws?.send(text, false);
  }

  private sendError(session: Session, code: ErrorCode, message?: string): void {
    this.sendText(
      session,
      JSON.stringify({ type: 'error', timestamp: formatTimestampMicros(nowMicros()), data: { code, message: message ?? ERRORS[code].message } }),
    );
  }

  closeAll(): void {
    for (const session of this.sessions) session.ws?.end(1001, 'server shutting down');
  }
}
