import { JsonSchema, ref } from './json-schema';
import { SCHEMAS } from './schemas';

/**
 * One message on a WebSocket endpoint: JSON text with a schema of SCHEMAS, or a FlatBuffers
 * binary frame whose root table (and Envelope body) fbs/bookcast.fbs defines.
 */
export type WsMessage =
  | { name: string; summary: string; schema: string }
  | { name: string; summary: string; flatbuffers: { root: 'Envelope' | 'IngestBatch'; body?: string } };

/**
 * One WebSocket endpoint as bookcast documents it: what a client sends and what it receives.
 * Adding an endpoint is adding one of these to WS_ENDPOINTS.
 */
export interface WsEndpoint {
  id: string;
  address: string;
  title: string;
  description: string;
  /** Query parameters of the upgrade request. */
  query: Record<string, JsonSchema>;
  send: WsMessage[];
  receive: WsMessage[];
}

const json = (name: string, schema: string, summary: string): WsMessage => ({ name, schema, summary });
const envelope = (body: string, summary: string): WsMessage => ({ name: `fb${body}`, summary, flatbuffers: { root: 'Envelope', body } });

const FEED_DATA: WsMessage[] = [
  json('l2Snapshot', 'L2Snapshot', 'the L2 book to the subscribed depth'),
  json('l2Update', 'L2Update', 'changed levels, with prev_sequence and checksum'),
  json('l3Snapshot', 'L3Snapshot', 'every resting order'),
  json('l3Update', 'L3Update', 'order adds, modifies and deletes'),
  json('trade', 'TradeMessage', 'one trade'),
  json('ticker', 'TickerMessage', 'best bid/ask, last trade and 24 h figures'),
  json('candle', 'CandleMessage', 'the open candle on each trade, and once more when it closes'),
  json('heartbeat', 'Heartbeat', 'every --heartbeat-ms: the last sequence of each subscription'),
];
const FEED_CONTROL: WsMessage[] = [
  json('subscribed', 'Subscribed', 'reply to subscribe (JSON text in both formats)'),
  json('unsubscribed', 'Unsubscribed', 'reply to unsubscribe'),
  json('pong', 'Pong', 'reply to ping'),
  json('error', 'WsError', 'a refused request; nothing changed'),
  json('resume', 'Resume', 'per stream named in resume_from, before its first message: replayed N missed messages, or a fresh snapshot follows and why (JSON text in both formats)'),
  json('serverShutdown', 'ServerShutdown', 'the server is stopping: resume points and a jittered reconnect hint, then close 1001 (JSON text in both formats)'),
  json('signature', 'Signature', 'with --sign-snapshots: after each snapshot and heartbeat, the Ed25519 signature of the frame its sha256 names (JSON text in both formats)'),
];
const FLATBUFFERS_DATA: WsMessage[] = ['L2Snapshot', 'L2Update', 'L3Snapshot', 'L3Update', 'Trade', 'Ticker', 'Candle', 'Heartbeat'].map((body) =>
  envelope(body, `with ?format=flatbuffers: an Envelope (file identifier BKCT) whose body is ${body}; prices and sizes in integer units, times in µs`),
);

export const WS_ENDPOINTS: WsEndpoint[] = [
  {
    id: 'feed',
    address: '/ws',
    title: 'Data Feed',
    description:
      'Subscribe to ticker, l2, l3, trades and candles. Data arrives as JSON text, or with ?format=flatbuffers as binary FlatBuffers frames; ' +
      'control replies are JSON text in both. After a snapshot at S the first update has prev_sequence <= S < sequence, then each prev_sequence ' +
      'equals the previous sequence; anything else is a gap: subscribe again for a fresh snapshot.',
    query: { format: { type: 'string', enum: ['json', 'flatbuffers'], description: 'default json' } },
    send: [json('subscribe', 'SubscribeRequest', 'subscribe or unsubscribe; a repeated subscribe resynchronises'), json('ping', 'PingRequest', 'answered with pong')],
    receive: [...FEED_DATA, ...FEED_CONTROL, ...FLATBUFFERS_DATA],
  },
  {
    id: 'marketData',
    address: '/api/v1/market-data/stream',
    title: 'Market Data API stream',
    description: 'The Market Data API dialect on the same streams: data arrives wrapped in DATA envelopes whose payload is the feed message.',
    query: {},
    send: [json('request', 'MarketDataRequest', 'SUBSCRIBE, UNSUBSCRIBE or HEARTBEAT')],
    receive: [
      json('reply', 'MarketDataReply', 'the reply to SUBSCRIBE or UNSUBSCRIBE, with the request_id'),
      json('data', 'MarketDataData', 'a feed message in a DATA envelope'),
      json('heartbeat', 'MarketDataHeartbeat', 'the last sequence of each subscription'),
      json('error', 'MarketDataError', 'a refused request, with the request_id'),
      json('resume', 'MarketDataResume', 'per stream named in resume_from, before its first message: how it resumes'),
      json('serverShutdown', 'MarketDataServerShutdown', 'the server is stopping: resume points and a jittered reconnect hint, then close 1001'),
      json('signature', 'MarketDataSignature', 'with --sign-snapshots: after each snapshot and heartbeat, the Ed25519 signature of the frame its sha256 names'),
    ],
  },
  {
    id: 'ingest',
    address: '/ingest',
    title: 'Network ingest',
    description: 'One publisher at a time pushes numbered events (with --source ingest); acks name the highest sequence on stable storage.',
    query: { session: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' }, token: { type: 'string', description: 'when an Authorization: Bearer header cannot be set' } },
    send: [
      json('batchJson', 'IngestBatchJson', 'a batch as JSON text'),
      { name: 'batchFlatBuffers', summary: 'a batch as a FlatBuffers IngestBatch (file identifier BKIN), 48-byte event structs', flatbuffers: { root: 'IngestBatch' } },
    ],
    receive: [json('welcome', 'IngestWelcome', 'on connect'), json('ack', 'IngestAck', 'the durable sequence'), json('error', 'IngestError', 'a refused batch; nothing of it accepted')],
  },
];

/** The parts of an AsyncAPI 3.1 document bookcast writes. */
export interface AsyncApiDocument {
  asyncapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: Record<string, { host: string; protocol: 'ws'; description: string }>;
  defaultContentType: string;
  channels: Record<string, object>;
  operations: Record<string, object>;
  components: { schemas: Record<string, JsonSchema>; messages: Record<string, object> };
}

const messageId = (endpoint: WsEndpoint, m: WsMessage) => `${endpoint.id}_${m.name}`;

function message(m: WsMessage): object {
  if ('schema' in m) return { name: m.name, summary: m.summary, contentType: 'application/json', payload: ref(m.schema) };
  return {
    name: m.name,
    summary: m.summary,
    contentType: 'application/x-flatbuffers',
    payload: ref('FlatBuffersFrame'),
    'x-flatbuffers': { schema: 'fbs/bookcast.fbs', root_type: m.flatbuffers.root, ...(m.flatbuffers.body === undefined ? {} : { body: m.flatbuffers.body }) },
  };
}

export function buildAsyncApi(endpoints: readonly WsEndpoint[] = WS_ENDPOINTS): AsyncApiDocument {
  const channels: Record<string, object> = {};
  const operations: Record<string, object> = {};
  const messages: Record<string, object> = {};
  for (const e of endpoints) {
    const own: Record<string, object> = {};
    for (const m of [...e.send, ...e.receive]) {
      messages[messageId(e, m)] = message(m);
      own[m.name] = { $ref: `#/components/messages/${messageId(e, m)}` };
    }
    channels[e.id] = {
      address: e.address,
      title: e.title,
      description: e.description,
      messages: own,
      bindings: { ws: { method: 'GET', query: { type: 'object', properties: e.query, additionalProperties: false } } },
    };
    const refs = (list: WsMessage[]) => list.map((m) => ({ $ref: `#/channels/${e.id}/messages/${m.name}` }));
    operations[`${e.id}Send`] = { action: 'send', channel: { $ref: `#/channels/${e.id}` }, summary: `what a client sends on ${e.address}`, messages: refs(e.send) };
    operations[`${e.id}Receive`] = { action: 'receive', channel: { $ref: `#/channels/${e.id}` }, summary: `what a client receives on ${e.address}`, messages: refs(e.receive) };
  }
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'bookcast WebSocket API',
      version: '0.1.0',
      description:
        'Both WebSocket dialects (the Data Feed /ws in JSON or FlatBuffers, the Market Data API stream) and network ingest. Binary frames are ' +
        'FlatBuffers defined by fbs/bookcast.fbs in the repository. A refused upgrade is an HTTP answer with the REST error body (see /openapi.json).',
    },
    servers: { bookcast: { host: 'localhost:8080', protocol: 'ws', description: 'npm start (change --host and --port)' } },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { schemas: SCHEMAS, messages },
  };
}
