import type { ErrorCode } from '../errors';
import type { Caller } from '../auth/caller';

/** A subscription is waiting for its snapshot, receiving updates, or parked while its connection catches up. */
export const SUB_PENDING = 0;
export const SUB_LIVE = 1;
export const SUB_RESYNC = 2;

export class Subscription {
  state = SUB_PENDING;
  /** Sequence of the snapshot this connection received last (0 before it). */
  snapshotSequence = 0;
  /** Conflation period in ms for ticker and candles (0: every update, through the outlet). */
  throttleMs = 0;
  /** Conflated subscriptions: when the last update was sent, and the newest version sent. */
  sentAt = 0;
  sentVersion = 0;
  sentSequence = 0;
  /** A parked trades subscription: the id of the last trade it was sent, so the resync fills the tape from there. */
  parkedAfter = 0;
}

/**
 * What the core needs of a connection, whatever carries it (a uWS WebSocket, a FIX session, a
 * test's fake): send, say how much is still buffered, close. `send` never throws for a
 * connection that has gone; it drops the message.
 */
export interface SessionTransport {
  send(data: Uint8Array | string, binary: boolean): void;
  /** Bytes accepted by `send` and not yet written to the network. */
  bufferedAmount(): number;
  /** Ends the connection with a protocol close code and a short reason. */
  close(code: number, reason: string): void;
}

/**
 * The one thing the core cannot say in a transport's own words: notices and heartbeats are
 * rendered by the session's dialect (feed JSON, Market Data API, FlatBuffers, FIX …).
 */
export interface SessionDialect {
  notice(session: Session, code: ErrorCode, message: string): void;
  heartbeat(session: Session, timestampMicros: number): void;
}

/**
 * How live subscribers of one format receive messages: a uWS topic per stream, or a plain loop
 * over the sessions for transports without topics (DirectOutlet). `publish` sends to every
 * session added on that stream; the core adds a session only after it has sent it a snapshot.
 */
export interface Outlet {
  add(session: Session, stream: number): void;
  /**
   * `open`: false when the connection is already gone (nothing to undo on the transport). What was
   * published and not yet passed to the session may be discarded: a send to the session first passes it.
   */
  remove(session: Session, stream: number, open: boolean): void;
  publish(stream: number, payload: Uint8Array | string, binary: boolean): void;
}

/** What one connection may do: its caller's tier (auth/caller.ts TierLimits), as the core needs it. */
export interface SessionBudget {
  /** Control messages (subscribe, unsubscribe, ping) per second. */
  readonly controlPerSecond: number;
  /** Streams the connection may hold. */
  readonly maxSubscriptions: number;
}

/** One connection's state. All fields are set here so every session has one shape. */
export class Session {
  closed = false;
  /** Stream index → subscription. */
  readonly subscriptions = new Map<number, Subscription>();
  /** Control messages seen in the current one-second window, for rate limiting. */
  windowStart = 0;
  windowCount = 0;
  /** Parked after falling behind; resumes with fresh snapshots once its buffer drains. */
  parked = false;
  /** Who opened the connection (auth/caller.ts); null only for transports that admit no one. */
  caller: Caller | null = null;
  /** When the credential it was admitted with runs out (ms since the epoch); Infinity: never. */
  credentialExpiry = Infinity;

  constructor(
    readonly id: number,
    /** FORMAT_* (streams.ts): FlatBuffers frames, feed JSON, or the Market Data API dialect. */
    readonly format: number,
    readonly transport: SessionTransport,
    readonly dialect: SessionDialect,
    readonly budget: SessionBudget,
  ) {}
}
