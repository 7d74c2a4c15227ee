import { performance } from 'node:perf_hooks';
import { CompressOptions, DISABLED, HttpRequest, HttpResponse, TemplatedApp, WebSocket } from 'uWebSockets.js';
import type { Admission, Credentials } from '../auth/admission';
import { isApiKeyText } from '../auth/api-key-format';
import { Config, isReplay } from '../config';
import { L2_DEPTHS } from '../model/depths';
import type { Instrument } from '../model/instruments';
import { BookcastError, ErrorCode, ERRORS } from '../errors';
import { nowMicros } from '../util/clock';
import { log } from '../util/log';
import { MessageEncoder, SubscriptionStateInput } from '../wire/message-encoder';
import { formatTimestampMicros } from '../wire/timestamp';
import { admissionOf, errorBody, sendError, sendRefusal, wsRoute } from './http';
import type { Caller, Permission, RouteInfo } from '../auth/caller';
import { requirePermission } from '../auth/admission';
import { routePermission } from '../auth/route-permissions';
import { Session, SessionDialect, SUB_LIVE } from '../distribution/session';
import { FORMAT_BINARY, FORMAT_FEED_JSON, FORMAT_MARKET_DATA, StreamTable } from '../distribution/streams';
import { CHANNEL_OF_DATA_TYPE, channelOf, indexOf, marketDataTypeOf, STREAM_CANDLES, STREAM_L3, streamOf } from '../model/streams';
import { INTERVAL_COUNT, INTERVALS } from '../model/intervals';
import type { SessionHub } from '../distribution/session-hub';
import { RESUME_REASONS, RESUME_REPLAY } from '../distribution/recent-messages';
import { DeliveryFailures, SessionData, UwsTransport } from './uws-outlet';
import type { SymbolLookup } from './symbol-lookup';
import { closeIfTooBig, payloadCeiling } from './frame-limits';
import type { UpgradeGuard } from './upgrade-guard';
import { AuthRequest, parseClientMessage, parseJsonObject, parseMarketDataMessage, StreamRequest } from './ws-protocol';
import type { Channel } from '../model/streams';
import type { UsageRecord } from '../store/store';

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

/** What each channel needs (README "Access control"). */
const CHANNEL_PERMISSION: Readonly<Record<Channel, Permission>> = { ticker: 'l1', l2: 'l2', l3: 'l3', trades: 'trades', candles: 'candles' };
/** A subprotocol that carries a token: `bookcast.token.<jwt>` (browsers cannot set headers on an upgrade). */
const TOKEN_PROTOCOL = 'bookcast.token.';
/** Close code of a graceful stop (RFC 6455 1001, "going away"), after server_shutdown. */
export const CLOSE_GOING_AWAY = 1001;
/** What a subscribe joins: a stream, its throttle, and the sequence it resumes after (-1: from a snapshot). */
type Joining = [stream: number, throttleMs: number, after: number];
/** Close code for a connection whose credential ran out (4000–4999: the application's own). */
export const CLOSE_CREDENTIAL_EXPIRED = 4401;
/** Close code for a connection whose key was revoked or whose client was suspended meanwhile. */
export const CLOSE_CREDENTIAL_REVOKED = 4403;
// --max-backpressure is at most 2^30 (config.ts), so the limit stays within uWS's unsigned 32 bits.

/**
 * A closed connection's usage row: one per connection (not per message), written when it closes,
 * with status 101 (an upgraded connection), its lifetime as the response time, and the bytes it
 * received and was sent (README "Usage accounting").
 */
function connectionUsage(data: SessionData, route: RouteInfo): UsageRecord {
  const caller = data.session.caller;
  return {
    time: nowMicros(),
    responseTimeMs: performance.now() - data.openedAt,
    requestBytes: data.transport.receivedBytes,
    responseBytes: data.transport.sentBytes,
    status: 101,
    subject: caller?.subject ?? `ip:${data.client}`,
    clientId: caller?.clientId ?? null,
    keyId: caller?.keyId ?? null,
    endpoint: route.pattern,
    method: route.method,
    userAgent: data.userAgent,
    ip: caller?.ip ?? data.client,
  };
}

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
  /**
   * Upgrade requests on the data endpoints and the upgrades made (metrics): every other request
   * was refused, whichever check refused it, so a refusal added later is counted too.
   */
  upgradeRequests = 0;
  /** Set while this process may hold no clients (a standby: NOT_PRIMARY); every upgrade is refused with it. */
  refusal: ErrorCode | null = null;
  upgrades = 0;
  /** Closes by WebSocket close code (1006: dropped or timed out, 1013: slow consumer, …). */
  readonly closes = new Map<number, number>();
  readonly deliveryFailures = new DeliveryFailures();
  /**
   * Refused upgrades and error replies, by endpoint and code (`/ws RATE_LIMITED`): metrics count
   * the auth failures and limit hits among them. Bounded: two endpoints, the catalog's codes.
   */
  readonly refusals = new Map<string, number>();
  /** The admission of the app the endpoints are registered on (it verifies in-band tokens too). */
  private admission: Admission = admissionOf(null);
  /** Usage accounting: one api_usage row per connection, when it closes; null: accounting off. */
  usage: ((row: UsageRecord) => void) | null = null;
  /** --sign-snapshots: the signature frame that follows each heartbeat (limits/snapshot-signer.ts); null: off. */
  signature: ((message: Uint8Array | string, marketData: boolean) => string) | null = null;
  /** Called when a connection takes a credential that expires (server.ts arms its CredentialSweep). */
  credentialsExpiring: () => void = () => undefined;
  /** The last heartbeat signed and its frame: sessions with the same streams in one tick share one signature. */
  private signedHeartbeat: Uint8Array | string = '';
  private heartbeatSignature = '';

  constructor(
    private readonly config: Config,
    private readonly symbols: SymbolLookup,
    private readonly streams: StreamTable,
    private readonly hub: SessionHub,
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
    const info: RouteInfo = { method: 'WS', pattern: path, permission: routePermission(path) };
    this.admission = admissionOf(app);
    wsRoute<SessionData>(app, path, {
      compression: DISABLED as CompressOptions,
      maxPayloadLength: payloadCeiling(cfg.maxMessageBytes * HARD_PAYLOAD_FACTOR),
      maxBackpressure: cfg.maxBackpressure * UWS_LIMIT_FACTOR + UWS_LIMIT_MARGIN,
      closeOnBackpressureLimit: 1,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        this.upgradeRequests++;
        const format = formatOf(req.getQuery('format') ?? 'json');
        if (format < 0) {
          res.cork(() => {
            res.writeStatus('400 Bad Request').writeHeader('content-type', 'application/json')
              .end(errorBody('INVALID_PARAMETER', `unsupported format "${req.getQuery('format')}"`));
          });
          return;
        }
        if (this.refusal !== null) {
          sendError(res, this.refusal, 'a standby holds no clients: connect to an edge (or to the primary)');
          return;
        }
        const client = this.guard.admit(res, req);
        if (client === null) return;
        const key = req.getHeader('sec-websocket-key');
        const offered = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        const userAgent = this.usage === null ? '' : req.getHeader('user-agent');
        const { credentials, protocol } = upgradeCredentials(req, offered, client);
        const open = (caller: Caller): void => {
          const transport = new UwsTransport(this.deliveryFailures);
          // The caller's tier sets what the connection may do (its budget).
          const { controlPerSecond, maxSubscriptions } = caller.limits;
          const session = new Session(this.nextId++, format, transport, this, { controlPerSecond, maxSubscriptions });
          this.upgrades++;
          session.caller = caller;
          session.credentialExpiry = caller.expiresAt ?? Infinity;
          res.upgrade<SessionData>({ session, transport, client, openedAt: performance.now(), userAgent }, key, protocol, extensions, context);
        };
        let admitted: Caller | Promise<Caller>;
        try {
          admitted = this.admission.admit(credentials, info);
        } catch (err) {
          this.refuse(res, path, err);
          return;
        }
        if (!(admitted instanceof Promise)) {
          open(admitted);
          return;
        }
        // Verified later (a cache miss): the request is copied above, and the connection caps are
        // checked again, since other upgrades may have opened meanwhile.
        let aborted = false;
        res.onAborted(() => {
          aborted = true;
        });
        admitted.then(
          (caller) => {
            if (aborted) return;
            try {
              this.guard.limits.check(client);
            } catch (err) {
              this.refuse(res, path, err);
              return;
            }
            res.cork(() => open(caller));
          },
          (err) => {
            if (!aborted) this.refuse(res, path, err);
          },
        );
      },
      open: (ws) => {
        const data = ws.getUserData();
        this.guard.opened(data.client);
        data.transport.ws = ws;
        this.hub.open(data.session);
        // Armed once the session is among those the sweep reads, not at the upgrade before it.
        if (data.session.credentialExpiry !== Infinity) this.credentialsExpiring();
        log.debug({ conn: data.session.id, path }, 'connection opened');
      },
      message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
      drain: (ws) => this.hub.check(ws.getUserData().session),
      close: (ws, code) => {
        this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
        const data = ws.getUserData();
        log.debug({ conn: data.session.id, code }, 'connection closed');
        this.guard.closed(data.client);
        this.hub.close(data.session);
        data.transport.ws = null;
        this.usage?.(connectionUsage(data, info));
      },
    });
  }

  private onMessage(ws: WebSocket<SessionData>, message: ArrayBuffer, isBinary: boolean): void {
    if (closeIfTooBig(ws, message.byteLength, this.config.maxMessageBytes * HARD_PAYLOAD_FACTOR)) return;
    const data = ws.getUserData();
    data.transport.receivedBytes += message.byteLength;
    const session = data.session;
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
      if (request.type === 'auth') {
        this.reauthenticate(session, request, null);
        return;
      }
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
      this.join(session, joining, null);
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
      if (request.type === 'auth') {
        this.reauthenticate(session, request, requestId);
        return;
      }
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
      this.join(session, joining, requestId);
    } catch (err) {
      this.sendError(session, err, requestId);
    }
  }

  /**
   * Validates a subscribe and drops replaced L2 depths; returns the streams to join, each with
   * its throttle (ticker and candles may be conflated; diffs and trades never are). A stream the
   * session already has is joined again: the hub resynchronises it (gap recovery).
   */
  private subscribe(session: Session, request: StreamRequest): Joining[] {
    const streams = this.streams;
    const wanted: Joining[] = [];
    let adding = 0;
    const replaced: number[] = [];
    const depthIndex = L2_DEPTHS.indexOf(request.depth);
    const interval = request.interval ?? 0;
    // Nothing of a request is subscribed unless the caller may have all of it.
    for (const channel of request.channels) requirePermission(session.caller!, CHANNEL_PERMISSION[channel]);
    for (const ins of request.instruments) {
      for (const channel of request.channels) {
        const stream = streams.index(ins.index, streamOf(channel, channel === 'candles' ? interval : depthIndex));
        if (!session.subscriptions.has(stream)) adding++;
        wanted.push([stream, channel === 'ticker' || channel === 'candles' ? request.throttleMs : 0, -1]);
        if (channel === 'l2') {
          // One L2 depth per symbol and connection: a new depth replaces the old one.
          for (let d = 0; d < L2_DEPTHS.length; d++) {
            const other = streams.index(ins.index, d);
            if (d !== depthIndex && session.subscriptions.has(other)) replaced.push(other);
          }
        }
      }
    }
    this.resumePoints(session, request, wanted);
    this.hub.admit(session, adding, replaced.length);
    for (const stream of replaced) this.hub.unsubscribe(session, stream);
    return wanted;
  }

  /**
   * Puts each resume_from entry's sequence on the stream of `wanted` it names; throws
   * INVALID_RESUME (before anything is subscribed) for an entry that names no stream of the
   * request, names one twice, or names one the connection already follows.
   */
  private resumePoints(session: Session, request: StreamRequest, wanted: Joining[]): void {
    const streams = this.streams;
    for (const point of request.resumeFrom) {
      const index = point.channel === 'candles' ? (point.interval ?? request.interval ?? 0) : point.channel === 'l2' ? L2_DEPTHS.indexOf(point.depth ?? request.depth) : 0;
      const stream = streams.index(point.instrument.index, streamOf(point.channel, index));
      const entry = wanted.find((w) => w[0] === stream);
      const what = `${point.channel} ${point.instrument.symbol}`;
      if (entry === undefined) throw new BookcastError('INVALID_RESUME', `resume_from names ${what}, which this subscribe does not (depth and interval included)`);
      if (entry[2] >= 0) throw new BookcastError('INVALID_RESUME', `resume_from names ${what} twice`);
      if (session.subscriptions.has(stream)) throw new BookcastError('INVALID_RESUME', `this connection already follows ${what}; resume on a new connection`);
      entry[2] = point.sequence;
    }
  }

  /**
   * What the connection has left of its budget once `joining` is joined: subscriptions, and
   * control messages in the current second (the reply counts the request it answers).
   */
  private budgetLeft(session: Session, joining: readonly Joining[]): object {
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

  /**
   * Joins validated streams; called after the reply went out, since snapshots follow it. A stream
   * with a resume point gets its `resume` notice, then what it missed (or a snapshot later).
   */
  private join(session: Session, streams: readonly Joining[], requestId: unknown): void {
    for (const [stream, throttleMs, after] of streams) {
      if (after < 0) this.hub.subscribe(session, stream, throttleMs);
      else this.hub.resumeFrom(session, stream, throttleMs, after, (status, replayed) => this.sendResume(session, stream, after, status, replayed, requestId));
    }
  }

  /** The `resume` notice (Market Data API: RESUME): how a stream resumes, before its first message. */
  private sendResume(session: Session, stream: number, after: number, status: number, replayed: number, requestId: unknown): void {
    const data = {
      ...this.stateOf(session, stream),
      sequence: after,
      mode: status === RESUME_REPLAY ? 'replay' : 'snapshot',
      replayed,
      reason: status === RESUME_REPLAY ? null : RESUME_REASONS[status],
    };
    const timestamp = formatTimestampMicros(nowMicros());
    this.sendText(
      session,
      session.format === FORMAT_MARKET_DATA
        ? JSON.stringify({ type: 'RESUME', request_id: requestId, payload: data, timestamp })
        : JSON.stringify({ type: 'resume', timestamp, data }),
    );
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
    const states: SubscriptionStateInput[] = [];
    for (const [stream, sub] of session.subscriptions) {
      if (sub.state !== SUB_LIVE) continue;
      states.push({ ...this.stateOf(session, stream), sequence: this.hub.sentSequence(stream, sub) });
    }
    return states;
  }

  /** A stream as heartbeats, resume notices and server_shutdown name it (and resume_from takes it back). */
  private stateOf(session: Session, stream: number): { channel: string; symbol: string; depth: number } {
    const s = this.streams.streamOf(stream);
    // A candle subscription names its interval: "candles:1m" (Market Data API: "OHLC:1m").
    const name = session.format === FORMAT_MARKET_DATA ? marketDataTypeOf(s) : channelOf(s);
    return {
      channel: s >= STREAM_CANDLES ? `${name}:${INTERVALS[indexOf(s)].name}` : name,
      symbol: this.instruments[this.streams.symbolOf(stream)].symbol,
      depth: s < STREAM_L3 ? L2_DEPTHS[indexOf(s)] : 0,
    };
  }

  /** SessionDialect: a heartbeat in the connection's dialect (HeartbeatRounds decides when). */
  heartbeat(session: Session, timestamp: number): void {
    const states = this.states(session);
    let beat: Uint8Array | string;
    if (session.format === FORMAT_BINARY) {
      beat = this.encoder.heartbeat(timestamp, states);
    } else if (session.format === FORMAT_FEED_JSON) {
      beat = JSON.stringify({ type: 'heartbeat', timestamp: formatTimestampMicros(timestamp), data: { subscriptions: states } });
    } else {
      beat = JSON.stringify({ type: 'HEARTBEAT', payload: { subscriptions: states }, timestamp: formatTimestampMicros(timestamp) });
    }
    session.transport.send(beat, session.format === FORMAT_BINARY);
    if (this.signature !== null) session.transport.send(this.heartbeatSignatureOf(beat, session.format === FORMAT_MARKET_DATA), false);
  }

  /**
   * Ed25519 costs ~20-60 µs a signature: one per distinct heartbeat, so sessions following the
   * same streams in one tick (same bytes) share it. Signing is opt-in (--sign-snapshots) for that cost.
   */
  private heartbeatSignatureOf(beat: Uint8Array | string, marketData: boolean): string {
    const last = this.signedHeartbeat;
    const same = typeof beat === 'string' ? beat === last : typeof last !== 'string' && Buffer.compare(beat, last) === 0;
    if (!same) {
      // The encoder reuses its buffer: keep a copy to compare the next heartbeat with.
      this.signedHeartbeat = typeof beat === 'string' ? beat : beat.slice();
      this.heartbeatSignature = this.signature!(beat, marketData);
    }
    return this.heartbeatSignature;
  }

  /** SessionDialect: a notice from the core (SLOW_CONSUMER), as an error message of the dialect. */
  notice(session: Session, code: ErrorCode, message: string): void {
    this.sendError(session, new BookcastError(code, message));
  }

  private sendText(session: Session, text: string): void {
    session.transport.send(text, false);
  }

  /** A refused upgrade, counted by endpoint and code. */
  private refuse(res: HttpResponse, path: string, err: unknown): void {
    this.countRefusal(path, err instanceof BookcastError ? err.code : 'INTERNAL');
    sendRefusal(res, err);
  }

  private countRefusal(path: string, code: ErrorCode): void {
    const key = `${path} ${code}`;
    this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
  }

  /** An error in the connection's dialect; anything but a BookcastError is INTERNAL. */
  private sendError(session: Session, err: unknown, requestId: unknown = null): void {
    const code: ErrorCode = err instanceof BookcastError ? err.code : 'INTERNAL';
    this.countRefusal(session.format === FORMAT_MARKET_DATA ? '/api/v1/market-data/stream' : '/ws', code);
    const message = err instanceof BookcastError ? err.message : ERRORS.INTERNAL.message;
    const timestamp = formatTimestampMicros(nowMicros());
    this.sendText(
      session,
      session.format === FORMAT_MARKET_DATA
        ? JSON.stringify({ type: 'ERROR', request_id: requestId, payload: { code, message }, timestamp })
        : JSON.stringify({ type: 'error', timestamp, data: { code, message } }),
    );
  }

  /**
   * In-band re-authentication: a fresh token replaces the connection's caller (same client only)
   * and pushes back its expiry. Verified off the message path; the answer follows when it is done.
   */
  private reauthenticate(session: Session, request: AuthRequest, requestId: unknown): void {
    const before = session.caller!;
    const verified = (async () => this.admission.resolve({ apiKey: '', bearer: request.token, ip: before.ip }))();
    verified.then(
      (caller) => {
        if (session.closed) return;
        if (before.clientId !== null && caller.clientId !== before.clientId) {
          throw new BookcastError('PERMISSION_DENIED', 'a connection re-authenticates as the client that opened it');
        }
        session.caller = caller;
        this.setExpiry(session, caller);
        const expiresAt = Number.isFinite(session.credentialExpiry) ? formatTimestampMicros(session.credentialExpiry * 1000) : null;
        const data = { tier: caller.tier, permissions: [...caller.permissions], expires_at: expiresAt };
        const timestamp = formatTimestampMicros(nowMicros());
        this.sendText(
          session,
          session.format === FORMAT_MARKET_DATA
            ? JSON.stringify({ type: 'AUTH', request_id: requestId, payload: { status: 'authenticated', ...data }, timestamp })
            : JSON.stringify({ type: 'authenticated', timestamp, data }),
        );
      },
    ).catch((err) => {
      if (!session.closed) this.sendError(session, err, requestId);
    });
  }

  /**
   * Closes every connection whose credential ran out by `nowMs` (code 4401, reason TOKEN_EXPIRED)
   * unless it re-authenticated in time; returns how many open connections still have an expiry.
   * Called on a timer (credential-sweep.ts) with the server's clock.
   */
  expireCredentials(nowMs: number): number {
    let expiring = 0;
    for (const session of this.hub.sessions) {
      if (session.closed || session.credentialExpiry === Infinity) continue;
      if (session.credentialExpiry <= nowMs) {
        session.credentialExpiry = Infinity;
        session.transport.close(CLOSE_CREDENTIAL_EXPIRED, 'TOKEN_EXPIRED: re-authenticate with {"type":"auth","token":...} before expiry');
      } else {
        expiring++;
      }
    }
    return expiring;
  }

  /** An open connection's credential renewed: the sweep runs while any has an expiry. */
  private setExpiry(session: Session, caller: Caller): void {
    session.credentialExpiry = caller.expiresAt ?? Infinity;
    if (session.credentialExpiry !== Infinity) this.credentialsExpiring();
  }

  /**
   * Closes the connections a revoked key (or any key of a suspended client) opened, with 4403 and
   * the code a new request would get. Cold path: revocations are rare. Changes of a client's
   * status other than suspension also end here; an activation closes nothing.
   */
  closeRevoked(kind: 'key' | 'client', id: string): number {
    let closed = 0;
    for (const session of this.hub.sessions) {
      const caller = session.caller;
      if (caller === null || session.closed) continue;
      if (kind === 'key' ? caller.keyId === id : caller.clientId === id) {
        session.transport.close(CLOSE_CREDENTIAL_REVOKED, kind === 'key' ? 'API_KEY_REVOKED' : 'CLIENT_SUSPENDED');
        closed++;
      }
    }
    return closed;
  }

  /**
   * A graceful stop: every connection gets `server_shutdown` (Market Data API: SERVER_SHUTDOWN)
   * with its resume points and a reconnect hint drawn uniformly from [0, spreadMs), so the clients
   * of a draining server do not all land on the next one in the same instant; then close 1001.
   */
  shutdown(spreadMs: number): void {
    for (const session of this.hub.sessions) {
      if (session.closed) continue;
      const data = { reconnect_after_ms: Math.floor(Math.random() * spreadMs), resume_from: this.states(session) };
      const timestamp = formatTimestampMicros(nowMicros());
      this.sendText(
        session,
        session.format === FORMAT_MARKET_DATA
          ? JSON.stringify({ type: 'SERVER_SHUTDOWN', payload: data, timestamp })
          : JSON.stringify({ type: 'server_shutdown', timestamp, data }),
      );
      session.transport.close(CLOSE_GOING_AWAY, 'server shutting down');
    }
  }
}

/**
 * What an upgrade presents: `?token=` (a JWT or an API key), a `bookcast.token.<jwt>`
 * subprotocol, or the REST headers (X-API-Key, Authorization: Bearer). The subprotocol answered
 * is the first offered one that is not a token (a browser then sees the one it asked for), or
 * else the token protocol itself (the client's own token back). Reads `req` synchronously; `ip`
 * is the client's key as the upgrade guard admitted it.
 */
function upgradeCredentials(req: HttpRequest, offered: string, ip: string): { credentials: Credentials; protocol: string } {
  const authorization = req.getHeader('authorization');
  let apiKey = req.getHeader('x-api-key');
  let bearer = /^bearer /i.test(authorization) ? authorization.slice(7).trim() : '';
  const query = req.getQuery('token') ?? '';
  if (query !== '') {
    if (isApiKeyText(query)) apiKey = query;
    else bearer = query;
  }
  let protocol = offered;
  if (offered !== '') {
    const list = offered.split(',').map((p) => p.trim());
    const token = list.find((p) => p.startsWith(TOKEN_PROTOCOL));
    if (token !== undefined) {
      bearer = token.slice(TOKEN_PROTOCOL.length);
      protocol = list.find((p) => !p.startsWith(TOKEN_PROTOCOL)) ?? token;
    }
  }
  return { credentials: { apiKey, bearer, ip }, protocol };
}
