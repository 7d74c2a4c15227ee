/**
 * The Market Data API stream (`/api/v1/market-data/stream`, README "Market Data API stream") in
 * the feed dialect's terms, so the client keeps one set of books and events for both: requests
 * go out as SUBSCRIBE/UNSUBSCRIBE with a request_id, data comes back as the feed's own messages in
 * a DATA envelope, replies and heartbeats are renamed. The stream is JSON only and has no l3.
 */
import type { Channel, ControlMessage, FeedMessage, FeedRequest, HeartbeatMessage, ResumeMessage, ServerShutdownMessage } from './messages';

/** The stream's data types by feed channel (the server's CHANNEL_OF_DATA_TYPE, inverted). */
const DATA_TYPES: Readonly<Record<Channel, string | null>> = { ticker: 'QUOTE', l2: 'ORDERBOOK', trades: 'TRADE', candles: 'OHLC', l3: null };

/** Channels the stream cannot carry (l3): the client refuses them before sending. */
export function unsupportedChannels(channels: readonly Channel[]): Channel[] {
  return channels.filter((c) => DATA_TYPES[c] === null);
}

export function marketDataRequest(request: FeedRequest, requestId: string): object {
  const filters: Record<string, unknown> = {};
  if (request.depth !== undefined) filters.depth = request.depth;
  if (request.interval !== undefined) filters.interval = request.interval;
  if (request.throttle_ms !== undefined) filters.throttle_ms = request.throttle_ms;
  const payload: Record<string, unknown> = { symbols: request.symbols, data_types: request.channels.map((c) => DATA_TYPES[c]) };
  if (Object.keys(filters).length > 0) payload.filters = filters;
  // Feed channel names are taken here too (README "Resume").
  if (request.resume_from !== undefined) payload.resume_from = request.resume_from;
  return { type: request.type === 'subscribe' ? 'SUBSCRIBE' : 'UNSUBSCRIBE', request_id: requestId, payload };
}

interface MarketDataFrame {
  type: string;
  request_id?: unknown;
  timestamp?: string;
  payload?: Record<string, unknown>;
}

/**
 * A frame of the stream as the feed message it carries or stands for: DATA → its payload,
 * SUBSCRIBE/UNSUBSCRIBE → `subscribed`/`unsubscribed`, ERROR → `error`, RESUME → `resume`,
 * SERVER_SHUTDOWN → `server_shutdown`, HEARTBEAT → `heartbeat`
 * (subscriptions named by data type, `ORDERBOOK`). The request_id becomes `id`.
 */
export function fromMarketData(frame: MarketDataFrame): FeedMessage | null {
  const id = frame.request_id ?? undefined;
  switch (frame.type) {
    case 'DATA':
      return frame.payload as unknown as FeedMessage;
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE':
      return { type: frame.type === 'SUBSCRIBE' ? 'subscribed' : 'unsubscribed', id, timestamp: frame.timestamp, data: frame.payload } as ControlMessage;
    case 'ERROR':
      return { type: 'error', id, timestamp: frame.timestamp, data: frame.payload } as ControlMessage;
    case 'RESUME':
      return { type: 'resume', timestamp: frame.timestamp ?? '', data: frame.payload } as unknown as ResumeMessage;
    case 'SERVER_SHUTDOWN':
      return { type: 'server_shutdown', timestamp: frame.timestamp ?? '', data: frame.payload } as unknown as ServerShutdownMessage;
    case 'HEARTBEAT':
      return { type: 'heartbeat', timestamp: frame.timestamp ?? '', data: frame.payload } as unknown as HeartbeatMessage;
    default:
      return null;
  }
}
