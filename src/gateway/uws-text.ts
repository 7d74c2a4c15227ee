import type { RecognizedString } from 'uWebSockets.js';

/**
 * Text that goes to uWS on every REST answer, as bytes made once. uWS converts a string argument
 * to UTF-8 on every call (V8's Utf8Value: measure, allocate, copy, free; ~530 instructions a call
 * under callgrind, seven calls per snapshot answer: four header names read, a status line, a
 * header name and its value written) and reads an ArrayBuffer in place. A view costs it more than
 * the buffer itself (its buffer fetched, then offset and length read: ~200 instructions a call),
 * so constants are kept as ArrayBuffers.
 */

const UTF8 = new TextEncoder();

/** `text` as UTF-8, viewing the whole of an ArrayBuffer of its own (never a shared one, as uWS's types ask). */
export function textBytes(text: string): Uint8Array<ArrayBuffer> {
  return UTF8.encode(text) as Uint8Array<ArrayBuffer>;
}

/** `text` as UTF-8 in an ArrayBuffer of exactly its length: how a body kept for many answers goes to uWS. */
export function utf8Buffer(text: string): ArrayBuffer {
  return textBytes(text).buffer;
}

/** Each buffer made here, by its text: what a request copy looks a header name up by (see text()). */
const TEXT_OF = new Map<ArrayBuffer, string>();

/** `text` as UTF-8 in an ArrayBuffer of its own length, made once and known by its text. */
function textBuffer(text: string): ArrayBuffer {
  const buffer = utf8Buffer(text);
  TEXT_OF.set(buffer, text);
  return buffer;
}

/** Request headers read for every answer (getHeader takes lower-case names). */
export const AUTHORIZATION = textBuffer('authorization');
export const X_API_KEY = textBuffer('x-api-key');
export const CONTENT_LENGTH = textBuffer('content-length');
export const USER_AGENT = textBuffer('user-agent');
export const CONTENT_TYPE = textBuffer('content-type');

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const STATUS_LINES = new Map<number, ArrayBuffer>();
/** Each status line's code, so a response that meters its answer reads it back without parsing. */
const STATUS_OF_LINE = new Map<RecognizedString, number>();
for (const [code, text] of Object.entries(STATUS_TEXT)) {
  const line = textBuffer(`${code} ${text}`);
  STATUS_LINES.set(Number(code), line);
  STATUS_OF_LINE.set(line, Number(code));
}

/** `200 OK`: what uWS writes by itself when an answer starts with a header or the body. */
export const STATUS_OK_LINE = STATUS_LINES.get(200)!;

/**
 * The status line for `status` (`200 OK`, …; `<status> Error` for one without a name here). Most
 * answers are 200s, which skip the map (a hash lookup, ~150 instructions under callgrind).
 */
export function statusLine(status: number): RecognizedString {
  if (status === 200) return STATUS_OK_LINE;
  return STATUS_LINES.get(status) ?? `${status} Error`;
}

/** The status a line written by writeStatus carries: one of statusLine's, or any text starting with the code. */
export function statusOf(line: RecognizedString): number {
  if (line === STATUS_OK_LINE) return 200;
  return STATUS_OF_LINE.get(line) ?? (parseInt(text(line), 10) || 200);
}

/** At most this many content types are kept as bytes; a handler's types are a handful of constants. */
const CONTENT_TYPES_KEPT = 64;
const CONTENT_TYPES = new Map<string, ArrayBuffer>();

const JSON_TYPE = 'application/json';
const JSON_TYPE_BYTES = textBuffer(JSON_TYPE);

/** A content type as bytes, made on its first answer; JSON's without a lookup. */
export function contentType(type: string): RecognizedString {
  if (type === JSON_TYPE) return JSON_TYPE_BYTES;
  let bytes = CONTENT_TYPES.get(type);
  if (bytes === undefined) {
    if (CONTENT_TYPES.size >= CONTENT_TYPES_KEPT) return type;
    CONTENT_TYPES.set(type, (bytes = textBuffer(type)));
  }
  return bytes;
}

/** What uWS reads from a string, a buffer or a view (header names and status lines are ASCII). */
export function text(value: RecognizedString): string {
  if (typeof value === 'string') return value;
  const known = value instanceof ArrayBuffer ? TEXT_OF.get(value) : undefined;
  if (known !== undefined) return known;
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
  return Buffer.from(value).toString('latin1');
}
