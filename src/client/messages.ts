/**
 * The feed's messages as the SDK hands them out, whatever the wire format: the JSON dialect's
 * shapes (README, Messages), prices and sizes as exact decimal strings. FlatBuffers frames are
 * converted to the same shapes (flatbuffers-frames.ts).
 */
export type Level = [price: string, size: string];

export type Channel = 'ticker' | 'l2' | 'l3' | 'trades' | 'candles';

/** A subscribe or unsubscribe request in the feed dialect's shape (README, WebSocket feed). */
export interface FeedRequest {
  type: 'subscribe' | 'unsubscribe';
  channels: Channel[];
  symbols: string[];
  depth?: number;
  interval?: string;
  throttle_ms?: number;
  /** Where each stream was left (README "Resume"): the server replays what came after, or sends a snapshot. */
  resume_from?: SubscriptionState[];
}

interface SymbolMessage {
  symbol: string;
  /** ISO-8601 UTC to the microsecond. */
  timestamp: string;
  sequence: number;
}

export interface L2SnapshotMessage extends SymbolMessage {
  type: 'l2_snapshot';
  checksum: number;
  data: { depth: number; bids: Level[]; asks: Level[] };
}

export interface L2UpdateMessage extends SymbolMessage {
  type: 'l2_update';
  prev_sequence: number;
  checksum: number;
  data: { depth: number; bids: Level[]; asks: Level[] };
}

export interface L3Order {
  order_id: number;
  price: string;
  size: string;
}

export interface L3SnapshotMessage extends SymbolMessage {
  type: 'l3_snapshot';
  data: { bids: L3Order[]; asks: L3Order[] };
}

export interface L3Change extends L3Order {
  event: 'add' | 'modify' | 'delete';
}

export interface L3UpdateMessage extends SymbolMessage {
  type: 'l3_update';
  prev_sequence: number;
  data: { bids: L3Change[]; asks: L3Change[] };
}

export interface TradeMessage extends SymbolMessage {
  type: 'trade';
  data: { trade_id: number; price: string; size: string; side: 'buy' | 'sell'; maker_order_id: number };
}

export interface TickerMessage extends SymbolMessage {
  type: 'ticker';
  data: {
    bid: string | null; bid_size: string | null; ask: string | null; ask_size: string | null; last: string | null; last_size: string | null;
    volume_24h: string; high_24h: string | null; low_24h: string | null; change_24h: string | null;
  };
}

export interface CandleMessage extends SymbolMessage {
  type: 'candle';
  data: {
    interval: string; start: string; open: string | null; high: string | null; low: string | null; close: string | null;
    volume: string; vwap: string | null; trades: number; final: boolean;
  };
}

export interface SubscriptionState {
  channel: string;
  symbol: string;
  depth?: number;
  sequence: number;
}

export interface HeartbeatMessage {
  type: 'heartbeat';
  timestamp: string;
  data: { subscriptions: SubscriptionState[] };
}

/** How a stream named in resume_from resumed: `replay` (what was missed follows) or `snapshot` (and why). */
export interface ResumeMessage {
  type: 'resume';
  timestamp: string;
  data: SubscriptionState & { mode: 'replay' | 'snapshot'; replayed: number; reason: null | 'too_old' | 'unknown_stream' | 'sequence_ahead' };
}

/** The server is stopping gracefully: where each stream stands, and when to reconnect (elsewhere). */
export interface ServerShutdownMessage {
  type: 'server_shutdown';
  timestamp: string;
  data: { reconnect_after_ms: number; resume_from: SubscriptionState[] };
}

export type DataMessage = L2SnapshotMessage | L2UpdateMessage | L3SnapshotMessage | L3UpdateMessage | TradeMessage | TickerMessage | CandleMessage;

/** Replies to control messages: JSON text in both formats. */
export interface ControlMessage {
  type: 'subscribed' | 'unsubscribed' | 'pong' | 'error';
  timestamp?: string;
  id?: unknown;
  data?: { code?: string; message?: string; channels?: string[]; symbols?: string[]; depth?: number; interval?: string; replay?: boolean };
}

export type FeedMessage = DataMessage | HeartbeatMessage | ControlMessage | ResumeMessage | ServerShutdownMessage;
