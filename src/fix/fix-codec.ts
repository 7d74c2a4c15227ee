import { BEGIN_STRING } from './fix-tags';

/**
 * FIX tag=value framing (FIX 4.4, "FIX Session Protocol"): BeginString (8) first, BodyLength (9)
 * second, MsgType (35) third, CheckSum (10) last. BodyLength counts the bytes from the field
 * after 9 up to and including the SOH before 10; CheckSum is the sum of every byte before
 * "10=" modulo 256, written as three digits. Everything here is ASCII (latin1 on the wire: a
 * string's length is its byte length, and its char codes are its bytes).
 */
export const SOH = 0x01;
const SOH_CHAR = '\x01';
const PREFIX = `8=${BEGIN_STRING}\x019=`;
const PREFIX_BYTES = latin1(PREFIX);
/** Where a message can start again after garbage: its BeginString field. */
const BEGIN_FIELD = latin1(`8=${BEGIN_STRING}\x01`);
/** "10=nnn\x01" */
const TRAILER_BYTES = 7;

/** One inbound message: its fields in order (repeating groups stay in order too). */
export class FixMessage {
  constructor(
    readonly msgType: string,
    /** Tags and values, in wire order, MsgType excluded. */
    readonly tags: readonly number[],
    readonly values: readonly string[],
  ) {}

  /** The first value of `tag`, or undefined. */
  get(tag: number): string | undefined {
    const at = this.tags.indexOf(tag);
    return at < 0 ? undefined : this.values[at];
  }

  /** Every value of `tag`, in order (a repeating group's members). */
  all(tag: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.tags.length; i++) if (this.tags[i] === tag) out.push(this.values[i]);
    return out;
  }
}

/** What `FixParser.next` found. */
export const PARSE_NEED_MORE = 0;
export const PARSE_MESSAGE = 1;
/** Bytes that are not a well-formed message (framing, BodyLength, CheckSum): skipped, per the spec ignored. */
export const PARSE_GARBLED = 2;
/** A message longer than the limit, or a buffer grown past it without one: the connection must end. */
export const PARSE_TOO_LARGE = 3;

/**
 * Cuts a byte stream into messages. Holds at most `maxMessageBytes` (+ one read) per
 * connection: a peer that sends more without completing a message is told PARSE_TOO_LARGE.
 */
export class FixParser {
  private buffer: Uint8Array = new Uint8Array(0);
  /** After PARSE_MESSAGE: the message; after PARSE_GARBLED: why. */
  message: FixMessage | null = null;
  reason = '';

  constructor(private readonly maxMessageBytes: number) {}

  push(chunk: Uint8Array): void {
    if (this.buffer.length === 0) {
      this.buffer = chunk;
      return;
    }
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    this.buffer = joined;
  }

  /** Bytes held and not yet parsed. */
  get pending(): number {
    return this.buffer.length;
  }

  next(): number {
    const buf = this.buffer;
    this.message = null;
    if (buf.length === 0) return PARSE_NEED_MORE;
    const prefixSeen = Math.min(buf.length, PREFIX_BYTES.length);
    if (!startsWith(buf, PREFIX_BYTES, prefixSeen)) return this.garbled(1, 'message does not start with 8=FIX.4.4|9=');
    if (buf.length < PREFIX_BYTES.length) return PARSE_NEED_MORE;
    let length = 0;
    let at = PREFIX_BYTES.length;
    for (; at < buf.length && buf[at] !== SOH; at++) {
      const digit = buf[at] - 0x30;
      if (digit < 0 || digit > 9) return this.garbled(1, 'BodyLength (9) is not a number');
      length = length * 10 + digit;
      // A stated length past the limit ends the connection before its bytes are waited for.
      if (length > this.maxMessageBytes) return PARSE_TOO_LARGE;
    }
    if (at === buf.length) return buf.length > this.maxMessageBytes ? PARSE_TOO_LARGE : PARSE_NEED_MORE;
    if (at === PREFIX_BYTES.length) return this.garbled(1, 'BodyLength (9) is empty');
    const bodyStart = at + 1;
    const trailerAt = bodyStart + length;
    const total = trailerAt + TRAILER_BYTES;
    if (total > this.maxMessageBytes) return PARSE_TOO_LARGE;
    if (buf.length < total) return PARSE_NEED_MORE;
    if (buf[trailerAt] !== 0x31 || buf[trailerAt + 1] !== 0x30 || buf[trailerAt + 2] !== 0x3d || buf[total - 1] !== SOH || buf[trailerAt - 1] !== SOH) {
      return this.garbled(1, 'BodyLength (9) does not end where CheckSum (10) starts');
    }
    const stated = threeDigits(buf, trailerAt + 3);
    const actual = checksum(buf, 0, trailerAt);
    if (stated !== actual) return this.garbled(total, `CheckSum (10) is ${stated < 0 ? 'not three digits' : stated}, the bytes sum to ${actual}`);
    const parsed = parseFields(Buffer.from(buf.buffer, buf.byteOffset + bodyStart, length).toString('latin1'));
    this.buffer = buf.subarray(total);
    if (parsed === null) return this.garbledAt('a field is not tag=value, or MsgType (35) is not first');
    this.message = parsed;
    return PARSE_MESSAGE;
  }

  /** Skips to the next BeginString at or after `from` (or keeps the tail that may begin one). */
  private garbled(from: number, reason: string): number {
    const buf = this.buffer;
    const next = indexOf(buf, BEGIN_FIELD, from);
    this.buffer = next < 0 ? buf.subarray(Math.max(from, buf.length - BEGIN_FIELD.length + 1)) : buf.subarray(next);
    return this.garbledAt(reason);
  }

  private garbledAt(reason: string): number {
    this.reason = reason;
    return PARSE_GARBLED;
  }
}

/** A string's latin1 bytes (every char code below 256 is its own byte). */
function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function startsWith(buf: Uint8Array, prefix: Uint8Array, count: number): boolean {
  for (let i = 0; i < count; i++) if (buf[i] !== prefix[i]) return false;
  return true;
}

function indexOf(buf: Uint8Array, needle: Uint8Array, from: number): number {
  const last = buf.length - needle.length;
  outer: for (let i = from; i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (buf[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function threeDigits(buf: Uint8Array, at: number): number {
  let n = 0;
  for (let i = at; i < at + 3; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Sum of bytes [start, end) modulo 256. */
export function checksum(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += bytes[i];
  return sum & 0xff;
}

/** Sum of a latin1 string's bytes (not reduced). */
export function byteSum(text: string): number {
  let sum = 0;
  for (let i = 0; i < text.length; i++) sum += text.charCodeAt(i) & 0xff;
  return sum;
}

function parseFields(body: string): FixMessage | null {
  const tags: number[] = [];
  const values: string[] = [];
  let at = 0;
  while (at < body.length) {
    const eq = body.indexOf('=', at);
    const end = body.indexOf(SOH_CHAR, at);
    if (eq <= at || end < eq) return null;
    const tagText = body.slice(at, eq);
    if (!/^[1-9][0-9]{0,8}$/.test(tagText)) return null;
    tags.push(Number(tagText));
    values.push(body.slice(eq + 1, end));
    at = end + 1;
  }
  if (tags[0] !== 35 || values[0] === '') return null;
  return new FixMessage(values[0], tags.slice(1), values.slice(1));
}

/**
 * A message body rendered once and shared: bytes from the field after the header to the SOH
 * before CheckSum, with their byte sum, so framing it for another session costs only its header.
 */
export interface FixBody {
  readonly bytes: Uint8Array;
  readonly sum: number;
}

/**
 * A body from its text. The text is a rope of many small concatenations: one native latin1 copy
 * flattens and converts it, and the checksum is summed over the bytes (charCodeAt over the rope,
 * twice, was the largest single cost of rendering an update: bench/fix/fix-render-cost.ts).
 */
export function fixBody(text: string): FixBody {
  const bytes = new Uint8Array(text.length);
  Buffer.from(bytes.buffer).write(text, 'latin1');
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum += bytes[i];
  return { bytes, sum };
}

export const EMPTY_BODY: FixBody = fixBody('');

/**
 * Frames one message: `header` is "35=…|49=…|56=…|34=…|52=…|" (and 43/122 on a resend), the
 * part that differs per session; `body` is shared. One allocation: the returned buffer.
 */
export function frame(header: string, body: FixBody): Uint8Array {
  const length = header.length + body.bytes.length;
  const start = PREFIX + length + SOH_CHAR;
  const head = start + header;
  const out = new Uint8Array(head.length + body.bytes.length + TRAILER_BYTES);
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i) & 0xff;
  out.set(body.bytes, head.length);
  const sum = (byteSum(head) + body.sum) & 0xff;
  let at = head.length + body.bytes.length;
  out[at++] = 0x31;
  out[at++] = 0x30;
  out[at++] = 0x3d;
  out[at++] = 0x30 + Math.floor(sum / 100);
  out[at++] = 0x30 + (Math.floor(sum / 10) % 10);
  out[at++] = 0x30 + (sum % 10);
  out[at] = SOH;
  return out;
}

/** Field builder for bodies: `field(35, 'A')` → "35=A\x01". Values must be ASCII without SOH. */
export function field(tag: number, value: string | number): string {
  return tag + '=' + value + SOH_CHAR;
}

/** A value taken from a peer, safe to echo: no SOH (it would split the field), ASCII only. */
export function echo(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}

// UTCTimestamp with milliseconds, "YYYYMMDD-HH:MM:SS.sss", cached per millisecond.
let stampMs = -1;
let stampText = '';

export function utcTimestamp(ms: number): string {
  if (ms !== stampMs) {
    const iso = new Date(ms).toISOString();
    stampText = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + '-' + iso.slice(11, 23);
    stampMs = ms;
  }
  return stampText;
}
