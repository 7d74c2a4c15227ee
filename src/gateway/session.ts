import type { WebSocket } from 'uWebSockets.js';

/** A subscription is waiting for its snapshot, receiving updates, or parked while its connection catches up. */
export const SUB_PENDING = 0;
export const SUB_LIVE = 1;
export const SUB_RESYNC = 2;

export class Subscription {
  state = SUB_PENDING;
  /** Sequence of the snapshot this connection received last (0 before it). */
  snapshotSequence = 0;
  /** Conflation period in ms for ticker and candles (0: every update, through the topic). */
  throttleMs = 0;
  /** Conflated subscriptions: when the last update was sent, and the newest version sent. */
  sentAt = 0;
  sentVersion = 0;
  sentSequence = 0;
}

export interface SessionData {
  session: Session;
  /** The address the connection limits count it against (connection-limits.ts). */
  client: string;
}

/** One WebSocket connection's state. All fields are set here so every session has one shape. */
export class Session {
  ws: WebSocket<SessionData> | null = null;
  closed = false;
  /** Stream index → subscription. */
  readonly subscriptions = new Map<number, Subscription>();
  /** Control messages seen in the current one-second window, for rate limiting. */
  windowStart = 0;
  windowCount = 0;
  /** Parked after falling behind; resumes with fresh snapshots once its buffer drains. */
  resyncing = false;

  constructor(
    readonly id: number,
    /** FORMAT_* (streams.ts): FlatBuffers frames, feed JSON, or the Market Data API dialect. */
    readonly format: number,
  ) {}
}
