import { L2_DEPTHS } from '../model/depths';
import type { Instrument } from '../model/instruments';
import { BookcastError } from '../errors';
import { Channel, CHANNEL_OF_DATA_TYPE, CHANNELS } from '../model/streams';
import type { SymbolLookup } from './symbol-lookup';
import { INTERVALS, intervalIndex } from '../model/intervals';

export const DEFAULT_DEPTH = 10;

export interface StreamRequest {
  type: 'subscribe' | 'unsubscribe';
  channels: Channel[];
  instruments: Instrument[];
  /** For l2: the subscribed depth, one of L2_DEPTHS. */
  depth: number;
  /** For candles: the interval index (INTERVALS); null when the request named none. */
  interval: number | null;
  /** For ticker and candles: send at most one update per this many ms (0: every update). */
  throttleMs: number;
  /** Where the client left streams of this request (README "Resume"); empty: every stream from a snapshot. */
  resumeFrom: ResumePoint[];
}

/**
 * One `resume_from` entry: a stream and the last sequence the client got on it. The shape is a
 * heartbeat's subscription state (`{channel, symbol, depth, sequence}`, channel `candles:1m`), so
 * what a heartbeat or server_shutdown reported can be sent back as it is.
 */
export interface ResumePoint {
  channel: Channel;
  instrument: Instrument;
  /** l2: the depth named, or null for the request's. */
  depth: number | null;
  /** candles: the interval named (`candles:1m`), or null for the request's. */
  interval: number | null;
  sequence: number;
}

/** Throttle periods a client may ask for, in ms; 0 sends every update. */
export const THROTTLES: readonly number[] = [0, 100, 250, 500, 1000, 5000];

/** In-band re-authentication: a fresh token before the one the connection was opened with expires. */
export interface AuthRequest {
  type: 'auth';
  token: string;
}

/** Longest token an auth message may carry (access tokens are a few hundred bytes). */
const MAX_TOKEN_CHARS = 4096;

function authRequest(token: unknown): AuthRequest {
  if (typeof token !== 'string' || token === '' || token.length > MAX_TOKEN_CHARS) {
    throw new BookcastError('INVALID_MESSAGE', `"token" must be a non-empty string of at most ${MAX_TOKEN_CHARS} characters`);
  }
  return { type: 'auth', token };
}

export type ClientRequest = StreamRequest | AuthRequest | { type: 'ping'; id: unknown };

/** A Market Data API stream request: the same subscription core, in that spec's words. */
export type MarketDataRequest = StreamRequest | AuthRequest | { type: 'ping' };

function intervalOf(value: unknown): number | null {
  if (value === undefined) return null;
  const index = typeof value === 'string' ? intervalIndex(value) : -1;
  if (index < 0) throw new BookcastError('INVALID_INTERVAL', `interval must be one of ${INTERVALS.map((i) => i.name).join(', ')}`);
  return index;
}

function throttleOf(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !THROTTLES.includes(value)) {
    throw new BookcastError('INVALID_PARAMETER', `throttle_ms must be one of ${THROTTLES.join(', ')}`);
  }
  return value;
}

const MAX_LIST = 1000;

function resumePointsOf(value: unknown, symbols: SymbolLookup): ResumePoint[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_LIST) {
    throw new BookcastError('INVALID_RESUME', `"resume_from" must be an array of at most ${MAX_LIST} {channel, symbol, sequence} objects`);
  }
  return value.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new BookcastError('INVALID_RESUME', 'a resume_from entry is an object {channel, symbol, sequence, depth?}');
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      if (!['channel', 'symbol', 'sequence', 'depth'].includes(key)) throw new BookcastError('INVALID_RESUME', `unknown resume_from field "${key}"`);
    }
    if (typeof e.channel !== 'string') throw new BookcastError('INVALID_RESUME', 'resume_from "channel" must be a string such as "l2" or "candles:1m"');
    // Either dialect's names: a heartbeat of the Market Data API stream says ORDERBOOK, OHLC:1m.
    const [name, intervalName, ...rest] = e.channel.split(':');
    const channel = (CHANNELS as readonly string[]).includes(name) ? (name as Channel) : Object.hasOwn(CHANNEL_OF_DATA_TYPE, name) ? CHANNEL_OF_DATA_TYPE[name] : undefined;
    if (channel === undefined || rest.length > 0 || (intervalName !== undefined && channel !== 'candles')) throw new BookcastError('INVALID_RESUME', `unknown resume_from channel "${e.channel}"`);
    const interval = intervalName === undefined ? null : intervalIndex(intervalName);
    if (interval !== null && interval < 0) throw new BookcastError('INVALID_RESUME', `unknown candle interval in resume_from channel "${e.channel}"`);
    const instrument = typeof e.symbol === 'string' ? symbols.find(e.symbol) : undefined;
    if (instrument === undefined) throw new BookcastError('INVALID_RESUME', `resume_from "symbol" ${JSON.stringify(e.symbol)} is not a known symbol`);
    if (typeof e.sequence !== 'number' || !Number.isSafeInteger(e.sequence) || e.sequence < 0) throw new BookcastError('INVALID_RESUME', 'resume_from "sequence" must be an integer >= 0');
    // Heartbeats report depth 0 for streams without one.
    const depth = e.depth === undefined || (channel !== 'l2' && e.depth === 0) ? null : e.depth;
    if (depth !== null && (channel !== 'l2' || typeof depth !== 'number' || !L2_DEPTHS.includes(depth))) {
      throw new BookcastError('INVALID_RESUME', `resume_from "depth" must be one of ${L2_DEPTHS.join(', ')}, for l2 only`);
    }
    return { channel, instrument, depth: depth as number | null, interval, sequence: e.sequence };
  });
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_LIST || !value.every((v) => typeof v === 'string')) {
    throw new BookcastError('INVALID_MESSAGE', `"${field}" must be a non-empty array of at most ${MAX_LIST} strings`);
  }
  return value as string[];
}

export function parseJsonObject(text: string): Record<string, unknown> {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw new BookcastError('INVALID_JSON');
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new BookcastError('INVALID_MESSAGE', 'a control message is a JSON object with a "type"');
  }
  return message as Record<string, unknown>;
}

function onlyKeys(m: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of Object.keys(m)) {
    if (!keys.includes(key)) throw new BookcastError('INVALID_MESSAGE', `unknown field "${key}"`);
  }
}

function instrumentsOf(names: string[], symbols: SymbolLookup): Instrument[] {
  const instruments: Instrument[] = [];
  for (const name of names) {
    const ins = symbols.find(name);
    if (ins === undefined) throw new BookcastError('UNKNOWN_SYMBOL', `unknown symbol "${name}"`);
    if (!instruments.includes(ins)) instruments.push(ins);
  }
  return instruments;
}

function depthOf(value: unknown): number {
  if (value === undefined) return DEFAULT_DEPTH;
  if (typeof value !== 'number' || !L2_DEPTHS.includes(value)) {
    throw new BookcastError('INVALID_DEPTH', `depth must be one of ${L2_DEPTHS.join(', ')}`);
  }
  return value;
}

/**
 * Validates a Market Data API stream message (already parsed with parseJsonObject, so that an
 * error can still name the request_id):
 * `{type: SUBSCRIBE|UNSUBSCRIBE|HEARTBEAT, request_id?, payload: {symbols, data_types, filters?: {depth}}}`.
 */
export function parseMarketDataMessage(m: Record<string, unknown>, symbols: SymbolLookup): MarketDataRequest {
  onlyKeys(m, ['type', 'request_id', 'payload', 'timestamp']);
  if (m.type === 'HEARTBEAT') return { type: 'ping' };
  if (m.type === 'AUTH') {
    const payload = m.payload as Record<string, unknown> | null | undefined;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new BookcastError('INVALID_MESSAGE', '"payload" must be an object {token}');
    onlyKeys(payload, ['token']);
    return authRequest(payload.token);
  }
  if (m.type !== 'SUBSCRIBE' && m.type !== 'UNSUBSCRIBE') {
    throw new BookcastError('UNKNOWN_TYPE', `unknown message type ${JSON.stringify(m.type)}; expected SUBSCRIBE, UNSUBSCRIBE, HEARTBEAT or AUTH`);
  }
  const payload = m.payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new BookcastError('INVALID_MESSAGE', '"payload" must be an object {symbols, data_types, filters?}');
  }
  const p = payload as Record<string, unknown>;
  onlyKeys(p, ['symbols', 'data_types', 'filters', 'resume_from']);
  const channels: Channel[] = [];
  for (const dataType of stringList(p.data_types, 'data_types')) {
    // Own keys only: "constructor" or "__proto__" must not find Object.prototype's members.
    const channel = Object.hasOwn(CHANNEL_OF_DATA_TYPE, dataType) ? CHANNEL_OF_DATA_TYPE[dataType] : undefined;
    if (channel === undefined) {
      throw new BookcastError('UNKNOWN_CHANNEL', `unknown data type "${dataType}"; data types are ${Object.keys(CHANNEL_OF_DATA_TYPE).join(', ')}`);
    }
    if (!channels.includes(channel)) channels.push(channel);
  }
  let depth = DEFAULT_DEPTH;
  let interval: number | null = null;
  let throttleMs = 0;
  if (p.filters !== undefined) {
    if (typeof p.filters !== 'object' || p.filters === null || Array.isArray(p.filters)) {
      throw new BookcastError('INVALID_MESSAGE', '"filters" must be an object');
    }
    const f = p.filters as Record<string, unknown>;
    onlyKeys(f, ['depth', 'interval', 'throttle_ms']);
    depth = depthOf(f.depth);
    interval = intervalOf(f.interval);
    throttleMs = throttleOf(f.throttle_ms);
  }
  const instruments = instrumentsOf(stringList(p.symbols, 'symbols'), symbols);
  return { type: m.type === 'SUBSCRIBE' ? 'subscribe' : 'unsubscribe', channels, depth, interval, throttleMs, instruments, resumeFrom: resumeOf(m.type === 'SUBSCRIBE', p.resume_from, symbols) };
}

/**
 * Parses and validates one control message from a client. Throws a BookcastError whose code
 * goes back to the client; nothing is subscribed unless the whole request is valid.
 */
export function parseClientMessage(text: string, symbols: SymbolLookup): ClientRequest {
  const m = parseJsonObject(text);
  if (m.type === 'ping') return { type: 'ping', id: m.id ?? null };
  if (m.type === 'auth') {
    onlyKeys(m, ['type', 'token']);
    return authRequest(m.token);
  }
  if (m.type !== 'subscribe' && m.type !== 'unsubscribe') {
    throw new BookcastError('UNKNOWN_TYPE', `unknown message type ${JSON.stringify(m.type)}; expected subscribe, unsubscribe, ping or auth`);
  }
  onlyKeys(m, ['type', 'channels', 'symbols', 'depth', 'interval', 'throttle_ms', 'resume_from']);
  const channels = stringList(m.channels, 'channels');
  for (const c of channels) {
    if (!(CHANNELS as readonly string[]).includes(c)) {
      throw new BookcastError('UNKNOWN_CHANNEL', `unknown channel "${c}"; channels are ${CHANNELS.join(', ')}`);
    }
  }
  const instruments = instrumentsOf(stringList(m.symbols, 'symbols'), symbols);
  return {
    type: m.type,
    channels: [...new Set(channels)] as Channel[],
    instruments,
    depth: depthOf(m.depth),
    interval: intervalOf(m.interval),
    throttleMs: throttleOf(m.throttle_ms),
    resumeFrom: resumeOf(m.type === 'subscribe', m.resume_from, symbols),
  };
}

/** resume_from belongs to a subscribe only. */
function resumeOf(subscribe: boolean, value: unknown, symbols: SymbolLookup): ResumePoint[] {
  if (!subscribe && value !== undefined) throw new BookcastError('INVALID_RESUME', 'resume_from goes with a subscribe');
  return resumePointsOf(value, symbols);
}
