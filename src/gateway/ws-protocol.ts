import { L2_DEPTHS } from '../engine/depths';
import type { Instrument } from '../engine/instruments';
import { BookcastError } from '../errors';
import { Channel, CHANNELS } from './streams';
import type { SymbolLookup } from './symbol-lookup';

export const DEFAULT_DEPTH = 10;

export interface StreamRequest {
  type: 'subscribe' | 'unsubscribe';
  channels: Channel[];
  instruments: Instrument[];
  /** For l2: the subscribed depth, one of L2_DEPTHS. */
  depth: number;
}

export type ClientRequest = StreamRequest | { type: 'ping'; id: unknown };

const MAX_LIST = 1000;

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_LIST || !value.every((v) => typeof v === 'string')) {
    throw new BookcastError('INVALID_MESSAGE', `"${field}" must be a non-empty array of at most ${MAX_LIST} strings`);
  }
  return value as string[];
}

/**
 * Parses and validates one control message from a client. Throws a BookcastError whose code
 * goes back to the client; nothing is subscribed unless the whole request is valid.
 */
export function parseClientMessage(text: string, symbols: SymbolLookup): ClientRequest {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw new BookcastError('INVALID_JSON');
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new BookcastError('INVALID_MESSAGE', 'a control message is a JSON object with a "type"');
  }
  const m = message as Record<string, unknown>;
  if (m.type === 'ping') return { type: 'ping', id: m.id ?? null };
  if (m.type !== 'subscribe' && m.type !== 'unsubscribe') {
    throw new BookcastError('UNKNOWN_TYPE', `unknown message type ${JSON.stringify(m.type)}; expected subscribe, unsubscribe or ping`);
  }
  for (const key of Object.keys(m)) {
    if (key !== 'type' && key !== 'channels' && key !== 'symbols' && key !== 'depth') {
      throw new BookcastError('INVALID_MESSAGE', `unknown field "${key}"`);
    }
  }
  const channels = stringList(m.channels, 'channels');
  for (const c of channels) {
    if (!(CHANNELS as readonly string[]).includes(c)) {
      throw new BookcastError('UNKNOWN_CHANNEL', `unknown channel "${c}"; channels are ${CHANNELS.join(', ')}`);
    }
  }
  const instruments: Instrument[] = [];
  for (const name of stringList(m.symbols, 'symbols')) {
    const ins = symbols.find(name);
    if (ins === undefined) throw new BookcastError('UNKNOWN_SYMBOL', `unknown symbol "${name}"`);
    if (!instruments.includes(ins)) instruments.push(ins);
  }
  let depth = DEFAULT_DEPTH;
  if (m.depth !== undefined) {
    if (typeof m.depth !== 'number' || !L2_DEPTHS.includes(m.depth)) {
      throw new BookcastError('INVALID_DEPTH', `depth must be one of ${L2_DEPTHS.join(', ')}`);
    }
    depth = m.depth;
  }
  return { type: m.type, channels: [...new Set(channels)] as Channel[], instruments, depth };
}
