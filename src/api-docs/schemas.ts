import { ERRORS } from '../errors';
import { L2_DEPTHS } from '../model/depths';
import { INTERVALS } from '../model/intervals';
import { CHANNELS, CHANNEL_OF_DATA_TYPE } from '../model/streams';
import {
  BOOLEAN, closed, DECIMAL, DECIMAL_OR_NULL, INTEGER, JsonSchema, LEVELS, ref, SEQUENCE, STRING, TIMESTAMP, TIMESTAMP_OR_NULL,
} from './json-schema';

/**
 * Every message shape bookcast sends or takes as JSON, by the name both documents give it in
 * `components.schemas`. The REST answers are the OpenAPI document's, the WebSocket messages the
 * AsyncAPI document's; both documents carry the whole table, so a `$ref` resolves in either.
 */

const INTERVAL_NAMES = INTERVALS.map((i) => i.name);
const SIDE: JsonSchema = { type: 'string', enum: ['buy', 'sell'] };
const SYMBOL: JsonSchema = { type: 'string', description: 'as configured, e.g. BTC/USD' };
const INTERVAL: JsonSchema = { type: 'string', enum: INTERVAL_NAMES };

const errorBody = closed({
  error: closed({
    code: { type: 'string', enum: Object.keys(ERRORS), description: 'stable code from the error catalog (README, Error codes)' },
    message: STRING,
    timestamp: TIMESTAMP,
  }),
}, 'every REST refusal and every refused WebSocket upgrade');

const marketSymbol = closed({
  symbol: SYMBOL, base: STRING, quote: STRING, tick_size: DECIMAL, lot_size: DECIMAL, min_order_size: DECIMAL,
  price_decimals: INTEGER, size_decimals: INTEGER, status: STRING,
});

const tickerData = {
  bid: DECIMAL_OR_NULL, bid_size: DECIMAL_OR_NULL, ask: DECIMAL_OR_NULL, ask_size: DECIMAL_OR_NULL,
  last: DECIMAL_OR_NULL, last_size: DECIMAL_OR_NULL, volume_24h: DECIMAL, high_24h: DECIMAL_OR_NULL,
  low_24h: DECIMAL_OR_NULL, change_24h: DECIMAL_OR_NULL,
};

const orderbookProperties: Record<string, JsonSchema> = {
  symbol: SYMBOL, sequence: SEQUENCE, timestamp: TIMESTAMP_OR_NULL,
  checksum: { type: 'integer', minimum: 0, description: 'CRC32 of the top 10 levels (README, sequences and checksums)' },
  depth: INTEGER, bids: LEVELS, asks: LEVELS,
  at: { ...TIMESTAMP, description: 'only with ?at=: the time asked for' },
};

const restTrade = closed({
  trade_id: INTEGER, price: DECIMAL, size: DECIMAL, side: SIDE, maker_order_id: INTEGER, timestamp: TIMESTAMP, sequence: SEQUENCE,
});

const restCandle = closed({
  start: TIMESTAMP, open: DECIMAL, high: DECIMAL, low: DECIMAL, close: DECIMAL, volume: DECIMAL, vwap: DECIMAL_OR_NULL, trades: INTEGER,
});

const storedEvent: JsonSchema = {
  type: 'object',
  properties: {
    time: TIMESTAMP, sequence: INTEGER, kind: STRING, side: { type: ['string', 'null'] }, order_id: { type: ['integer', 'null'] },
    price: DECIMAL_OR_NULL, size: DECIMAL_OR_NULL, new_order_id: { type: ['integer', 'null'] },
  },
  required: ['time', 'sequence', 'kind'],
};

const snapshotData: JsonSchema = {
  type: 'object',
  description: 'the fields asked for (default price, volume, bid, ask, spread, mid_price, vwap, trade_count)',
  additionalProperties: { type: ['string', 'number', 'null'] },
};

const latest = closed({
  symbol: SYMBOL, exchange: STRING, currency: STRING, data: snapshotData, timestamp: TIMESTAMP_OR_NULL, sequence: SEQUENCE,
  source: STRING, data_type: { type: 'string', enum: ['SNAPSHOT'] }, cache_hit: BOOLEAN,
});

const bulkSnapshot = closed({ symbol: SYMBOL, sequence: SEQUENCE, timestamp: TIMESTAMP_OR_NULL, currency: STRING, data: snapshotData, exchange: STRING, source: STRING });

// WebSocket messages (both dialects carry the feed's data messages).
function feedMessage(type: string, data: JsonSchema, extra: Record<string, JsonSchema> = {}): JsonSchema {
  return closed({ type: { type: 'string', enum: [type] }, symbol: SYMBOL, timestamp: TIMESTAMP, sequence: SEQUENCE, ...extra, data });
}
const CHECKSUM: JsonSchema = { type: 'integer', minimum: 0, description: "Kraken v2 CRC32 of the book's top 10 after this message" };
const PREV: JsonSchema = { ...SEQUENCE, description: 'the sequence of the previous message on this stream; anything else than the last one seen is a gap' };
const l3Order = closed({ order_id: INTEGER, price: DECIMAL, size: DECIMAL });
const l3Change = closed({ event: { type: 'string', enum: ['add', 'modify', 'delete'] }, order_id: INTEGER, price: DECIMAL, size: DECIMAL });
const subscriptionState: JsonSchema = {
  type: 'object',
  properties: { channel: STRING, data_type: STRING, symbol: SYMBOL, depth: INTEGER, interval: INTERVAL, sequence: SEQUENCE },
  required: ['symbol', 'sequence'],
  additionalProperties: false,
};

/** A resume_from entry: a subscription state as a heartbeat or server_shutdown gave it (channel in either dialect's names). */
const resumePoint: JsonSchema = {
  type: 'object',
  properties: {
    channel: { type: 'string', description: 'l2, trades, candles:1m, … or the Market Data API names (ORDERBOOK, OHLC:1m, …)' },
    symbol: SYMBOL,
    depth: { type: 'integer', description: 'l2: one of the depths (default: the request\'s); 0 or absent for the others' },
    sequence: { ...SEQUENCE, description: 'the last sequence the client got on the stream' },
  },
  required: ['channel', 'symbol', 'sequence'],
  additionalProperties: false,
};
const RESUME_FROM: JsonSchema = { type: 'array', items: resumePoint, maxItems: 1000, description: 'subscribe only: streams of this request and where the client left them (README "Resume")' };
const resumeNotice: JsonSchema = closed({
  channel: STRING, symbol: SYMBOL, depth: INTEGER, sequence: SEQUENCE,
  mode: { type: 'string', enum: ['replay', 'snapshot'], description: 'replay: the missed messages follow; snapshot: a fresh snapshot follows' },
  replayed: INTEGER,
  reason: { type: ['string', 'null'], enum: [null, 'too_old', 'unknown_stream', 'sequence_ahead'] },
});
const shutdownNotice: JsonSchema = closed({
  reconnect_after_ms: { type: 'integer', minimum: 0, description: 'a jittered hint (--shutdown-spread-ms): reconnect, elsewhere, after this long' },
  resume_from: { type: 'array', items: subscriptionState },
});

const feedControl = (type: string, data: JsonSchema, extra: Record<string, JsonSchema> = {}): JsonSchema =>
  closed({ type: { type: 'string', enum: [type] }, ...extra, timestamp: TIMESTAMP, data });

const subscribeRequest: JsonSchema = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: ['subscribe', 'unsubscribe'] },
    channels: { type: 'array', items: { type: 'string', enum: [...CHANNELS] }, minItems: 1 },
    symbols: { type: 'array', items: SYMBOL, minItems: 1, maxItems: 1000 },
    depth: { type: 'integer', enum: [...L2_DEPTHS], description: 'l2 only; default 10' },
    interval: { ...INTERVAL, description: 'candles only; default 1m' },
    throttle_ms: { type: 'integer', enum: [0, 100, 250, 500, 1000, 5000] },
    resume_from: RESUME_FROM,
  },
  required: ['type', 'channels', 'symbols'],
  additionalProperties: false,
};

const DATA_TYPES = Object.keys(CHANNEL_OF_DATA_TYPE);
const marketDataRequest: JsonSchema = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: ['SUBSCRIBE', 'UNSUBSCRIBE', 'HEARTBEAT'] },
    request_id: { type: ['string', 'number'] },
    timestamp: {},
    payload: {
      type: 'object',
      properties: {
        symbols: { type: 'array', items: SYMBOL, minItems: 1 },
        data_types: { type: 'array', items: { type: 'string', enum: DATA_TYPES }, minItems: 1 },
        filters: {
          type: 'object',
          properties: { depth: { type: 'integer', enum: [...L2_DEPTHS] }, interval: INTERVAL, throttle_ms: INTEGER },
          additionalProperties: false,
        },
        resume_from: RESUME_FROM,
      },
      required: ['symbols', 'data_types'],
      additionalProperties: false,
    },
  },
  required: ['type'],
  additionalProperties: false,
};

const FEED_DATA = ['L2Snapshot', 'L2Update', 'L3Snapshot', 'L3Update', 'TradeMessage', 'TickerMessage', 'CandleMessage'];

/** --sign-snapshots: follows each snapshot and heartbeat, signing the frame its sha256 names (limits/snapshot-signer.ts). */
const signatureBody: JsonSchema = closed({ key_id: STRING, sha256: STRING, sig: STRING });

export const SCHEMAS: Record<string, JsonSchema> = {
  ErrorBody: errorBody,
  // Data Feed REST
  MarketSymbols: closed({ symbols: { type: 'array', items: marketSymbol }, count: INTEGER, replay: BOOLEAN }),
  Ticker: { type: 'object', properties: { symbol: SYMBOL, sequence: SEQUENCE, timestamp: TIMESTAMP_OR_NULL, ...tickerData, last_side: { type: ['string', 'null'], enum: ['buy', 'sell', null] } }, required: ['symbol', 'sequence', 'timestamp', ...Object.keys(tickerData)], additionalProperties: false },
  OrderBook: { type: 'object', properties: orderbookProperties, required: ['symbol', 'sequence', 'timestamp', 'checksum', 'depth', 'bids', 'asks'], additionalProperties: false },
  Trades: closed({ symbol: SYMBOL, count: INTEGER, trades: { type: 'array', items: restTrade } }),
  Candles: closed({ symbol: SYMBOL, interval: INTERVAL, count: INTEGER, candles: { type: 'array', items: restCandle } }),
  Events: { type: 'object', properties: { symbol: SYMBOL, events: { type: 'array', items: storedEvent }, has_more: BOOLEAN }, required: ['symbol', 'events', 'has_more'] },
  Health: {
    type: 'object',
    description: 'status and uptime for everyone; the details (source, workers, persistence, …) where --health-details allows',
    properties: { status: { type: 'string', enum: ['ok'] }, uptime_s: INTEGER },
    required: ['status', 'uptime_s'],
  },
  // Market Data API REST
  MarketDataSymbols: closed({
    symbols: { type: 'array', items: closed({ symbol: SYMBOL, base: STRING, quote: STRING, exchange: STRING, status: STRING, tick_size: DECIMAL, lot_size: DECIMAL }) },
    count: INTEGER,
    last_update: TIMESTAMP_OR_NULL,
  }),
  Latest: latest,
  BulkRequest: {
    type: 'object',
    properties: {
      symbols: { type: 'array', items: SYMBOL, minItems: 1, maxItems: 200 },
      fields: { type: 'array', items: STRING },
      currency: STRING,
      as_of: { type: ['string', 'number'], description: 'ISO-8601 or epoch ms; within a second of now is live' },
    },
    required: ['symbols'],
    additionalProperties: false,
  },
  Bulk: closed({
    data: { type: 'object', additionalProperties: bulkSnapshot },
    errors: { type: 'object', additionalProperties: closed({ code: STRING, message: STRING }) },
    timestamp: TIMESTAMP,
    count: INTEGER,
  }),
  History: { type: 'object', description: 'stored closed candles with metadata; CSV with format=csv', properties: { symbol: SYMBOL, interval: INTERVAL }, required: ['symbol'] },
  // Data Feed WebSocket (/ws)
  SubscribeRequest: subscribeRequest,
  PingRequest: closed({ type: { type: 'string', enum: ['ping'] }, id: {} }),
  L2Snapshot: feedMessage('l2_snapshot', closed({ depth: INTEGER, bids: LEVELS, asks: LEVELS }), { checksum: CHECKSUM }),
  L2Update: feedMessage('l2_update', closed({ depth: INTEGER, bids: LEVELS, asks: LEVELS }, 'absolute level sizes; "0" removes the level'), { prev_sequence: PREV, checksum: CHECKSUM }),
  L3Snapshot: feedMessage('l3_snapshot', closed({ bids: { type: 'array', items: l3Order }, asks: { type: 'array', items: l3Order } })),
  L3Update: feedMessage('l3_update', closed({ bids: { type: 'array', items: l3Change }, asks: { type: 'array', items: l3Change } }), { prev_sequence: PREV }),
  TradeMessage: feedMessage('trade', closed({ trade_id: INTEGER, price: DECIMAL, size: DECIMAL, side: SIDE, maker_order_id: INTEGER })),
  TickerMessage: feedMessage('ticker', { type: 'object', properties: { ...tickerData, last_side: { type: ['string', 'null'] } }, required: Object.keys(tickerData), additionalProperties: false }),
  CandleMessage: feedMessage('candle', closed({
    interval: INTERVAL, start: TIMESTAMP, open: DECIMAL_OR_NULL, high: DECIMAL_OR_NULL, low: DECIMAL_OR_NULL, close: DECIMAL_OR_NULL,
    volume: DECIMAL, vwap: DECIMAL_OR_NULL, trades: INTEGER, final: BOOLEAN,
  })),
  Heartbeat: closed({ type: { type: 'string', enum: ['heartbeat'] }, timestamp: TIMESTAMP, data: closed({ subscriptions: { type: 'array', items: subscriptionState } }) }),
  Subscribed: feedControl('subscribed', {
    type: 'object',
    properties: { channels: { type: 'array', items: STRING }, symbols: { type: 'array', items: SYMBOL }, depth: INTEGER, interval: INTERVAL, throttle_ms: INTEGER, replay: BOOLEAN },
    required: ['channels', 'symbols'],
  }),
  Unsubscribed: feedControl('unsubscribed', { type: 'object', properties: { channels: { type: 'array', items: STRING }, symbols: { type: 'array', items: SYMBOL } } }),
  Pong: { type: 'object', properties: { type: { type: 'string', enum: ['pong'] }, id: {}, timestamp: TIMESTAMP }, required: ['type'] },
  WsError: feedControl('error', closed({ code: STRING, message: STRING })),
  Resume: feedControl('resume', resumeNotice),
  ServerShutdown: feedControl('server_shutdown', shutdownNotice),
  Signature: closed({ type: { type: 'string', enum: ['signature'] }, data: signatureBody }),
  // Market Data API stream
  MarketDataRequest: marketDataRequest,
  MarketDataReply: {
    type: 'object',
    properties: { type: { type: 'string', enum: ['SUBSCRIBE', 'UNSUBSCRIBE'] }, request_id: {}, payload: { type: 'object' }, timestamp: TIMESTAMP },
    required: ['type', 'payload', 'timestamp'],
  },
  MarketDataData: closed({ type: { type: 'string', enum: ['DATA'] }, timestamp: TIMESTAMP, payload: { oneOf: FEED_DATA.map((name) => ref(`MarketData${name}`)) } }),
  MarketDataHeartbeat: {
    type: 'object',
    properties: { type: { type: 'string', enum: ['HEARTBEAT'] }, request_id: {}, payload: closed({ subscriptions: { type: 'array', items: subscriptionState } }), timestamp: TIMESTAMP },
    required: ['type', 'payload', 'timestamp'],
    additionalProperties: false,
  },
  MarketDataResume: closed({ type: { type: 'string', enum: ['RESUME'] }, request_id: {}, payload: resumeNotice, timestamp: TIMESTAMP }),
  MarketDataServerShutdown: closed({ type: { type: 'string', enum: ['SERVER_SHUTDOWN'] }, payload: shutdownNotice, timestamp: TIMESTAMP }),
  MarketDataSignature: closed({ type: { type: 'string', enum: ['SIGNATURE'] }, payload: signatureBody }),
  MarketDataError: {
    type: 'object',
    properties: { type: { type: 'string', enum: ['ERROR'] }, request_id: {}, payload: closed({ code: STRING, message: STRING }), timestamp: TIMESTAMP },
    required: ['type', 'payload', 'timestamp'],
    additionalProperties: false,
  },
  // Ingest (/ingest)
  IngestBatchJson: {
    type: 'object',
    properties: {
      first_sequence: { type: 'integer', minimum: 1 },
      events: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            kind: { type: 'string', enum: ['add', 'modify', 'replace', 'cancel', 'delete', 'execute', 'trade', 'clear'] },
            symbol: SYMBOL, side: SIDE, order_id: INTEGER, new_order_id: INTEGER, price: DECIMAL, size: DECIMAL,
            timestamp: { type: 'integer', minimum: 0, description: 'µs since the epoch; 0 = on arrival' },
          },
          required: ['kind', 'symbol'],
        },
      },
    },
    required: ['first_sequence', 'events'],
  },
  IngestWelcome: closed({ type: { type: 'string', enum: ['welcome'] }, session: STRING, accepted_sequence: INTEGER, durable_sequence: INTEGER, max_batch_events: INTEGER, max_batch_bytes: INTEGER }),
  IngestAck: closed({ type: { type: 'string', enum: ['ack'] }, session: STRING, sequence: INTEGER }),
  IngestError: {
    type: 'object',
    properties: { type: { type: 'string', enum: ['error'] }, code: STRING, message: STRING, event_index: INTEGER, expected_sequence: INTEGER },
    required: ['type', 'code', 'message'],
  },
  FlatBuffersFrame: { type: 'string', format: 'binary', description: 'a FlatBuffers buffer; the root table is named by the message (fbs/bookcast.fbs)' },
};

// A DATA envelope's payload is the feed message with the Market Data API's name for its stream added.
for (const name of FEED_DATA) {
  const feed = SCHEMAS[name];
  SCHEMAS[`MarketData${name}`] = {
    ...feed,
    properties: { ...feed.properties, data_type: { type: 'string', enum: DATA_TYPES } },
    required: [...(feed.required ?? []), 'data_type'],
  };
}
