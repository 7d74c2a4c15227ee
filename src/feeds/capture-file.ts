import { createReadStream, createWriteStream, closeSync, openSync, readSync, WriteStream } from 'node:fs';
import { constants, createGunzip, createGzip, gunzipSync, Gzip } from 'node:zlib';
import { once } from 'node:events';
import { BookcastError } from '../errors';

/**
 * A capture (`bookcast record --out <file>`, played by `--source capture:<file>`): the raw traffic
 * of one feed connection with receive times, in one gzip stream of records:
 *
 *   +0 u8 type | +1..+3 zero | +4 u32 payload length | +8 f64 receive time, µs since the epoch | +16 payload
 *   (all little-endian; the payload is UTF-8 text)
 *
 *   1 CAPTURE_HEADER  JSON: {"format":"bookcast-capture","version":1,"venue","depth","url","restUrl",
 *                     "symbols":[{"venueSymbol","symbol","tickSize","lotSize","minOrderSize"}]}; always first
 *   2 CAPTURE_OPEN    the URL of a WebSocket connection that just opened
 *   3 CAPTURE_FRAME   a text frame received from the venue, exactly as received
 *   4 CAPTURE_REST    JSON {"path","status","body"}: a REST answer (status 0: no answer)
 *   5 CAPTURE_CLOSE   the connection closed (the payload says why)
 *   6 CAPTURE_SENT    a frame bookcast sent (subscriptions): not replayed, kept for reading the file
 *
 * The header carries the symbols' tick and lot as resolved at recording, so a capture plays back
 * with no network at all. The gzip stream is flushed (Z_SYNC_FLUSH) every second while recording,
 * so a recorder killed without warning leaves a file readable up to its last second.
 */
export const CAPTURE_HEADER = 1;
export const CAPTURE_OPEN = 2;
export const CAPTURE_FRAME = 3;
export const CAPTURE_REST = 4;
export const CAPTURE_CLOSE = 5;
export const CAPTURE_SENT = 6;
export const CAPTURE_FORMAT = 'bookcast-capture';
export const CAPTURE_VERSION = 1;
const RECORD_HEADER_BYTES = 16;
/** Largest payload a reader accepts: a Coinbase level2 snapshot is several MB; this is far beyond. */
const MAX_PAYLOAD = 256 * 1024 * 1024;

export interface CaptureSymbol {
  venueSymbol: string;
  symbol: string;
  tickSize: string;
  lotSize: string;
  minOrderSize: string;
}

export interface CaptureHeader {
  format: typeof CAPTURE_FORMAT;
  version: number;
  venue: string;
  depth: number;
  url: string;
  restUrl: string;
  symbols: CaptureSymbol[];
}

const encoder = new TextEncoder();

export class CaptureWriter {
  private readonly gzip: Gzip;
  private readonly file: WriteStream;
  private readonly flusher: NodeJS.Timeout;
  records = 0;

  constructor(path: string, header: CaptureHeader, now: number) {
    this.gzip = createGzip();
    this.file = createWriteStream(path);
    this.gzip.pipe(this.file);
    this.write(CAPTURE_HEADER, JSON.stringify(header), now);
    this.flusher = setInterval(() => this.gzip.flush(constants.Z_SYNC_FLUSH), 1000);
    this.flusher.unref();
  }

  write(type: number, text: string, receivedUs: number): void {
    const payload = encoder.encode(text);
    const head = new Uint8Array(RECORD_HEADER_BYTES);
    const view = new DataView(head.buffer);
    view.setUint8(0, type);
    view.setUint32(4, payload.length, true);
    view.setFloat64(8, receivedUs, true);
    this.gzip.write(head);
    this.gzip.write(payload);
    this.records++;
  }

  async close(): Promise<void> {
    clearInterval(this.flusher);
    this.gzip.end();
    await once(this.file, 'close');
  }
}

export interface CaptureRecord {
  type: number;
  receivedUs: number;
  text: string;
}

function corrupt(path: string, why: string): BookcastError {
  return new BookcastError('CAPTURE_CORRUPT', `${path}: ${why}`);
}

function parseHeader(path: string, record: CaptureRecord | undefined): CaptureHeader {
  if (record === undefined || record.type !== CAPTURE_HEADER) throw corrupt(path, 'does not start with a capture header');
  let header: CaptureHeader;
  try {
    header = JSON.parse(record.text);
  } catch {
    throw corrupt(path, 'the capture header is not JSON');
  }
  if (header.format !== CAPTURE_FORMAT || header.version !== CAPTURE_VERSION || !Array.isArray(header.symbols)) {
    throw corrupt(path, `not a ${CAPTURE_FORMAT} version ${CAPTURE_VERSION} file`);
  }
  return header;
}

const utf8 = new TextDecoder();

/** Splits decompressed bytes into records; returns what is left over (an incomplete record). */
function splitRecords(path: string, bytes: Uint8Array, out: CaptureRecord[]): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (bytes.length - at >= RECORD_HEADER_BYTES) {
    const length = view.getUint32(at + 4, true);
    if (length > MAX_PAYLOAD) throw corrupt(path, `a record claims ${length} bytes`);
    if (bytes.length - at < RECORD_HEADER_BYTES + length) break;
    out.push({
      type: view.getUint8(at),
      receivedUs: view.getFloat64(at + 8, true),
      text: utf8.decode(bytes.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + length)),
    });
    at += RECORD_HEADER_BYTES + length;
  }
  return bytes.subarray(at);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/**
 * The header alone, read synchronously at start-up (the instruments come from it): the file's
 * first 1 MiB decompressed as far as it goes.
 */
export function readCaptureHeader(path: string): CaptureHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new BookcastError('CAPTURE_NOT_FOUND', `${path}: ${(error as Error).message}`);
  }
  const prefix = new Uint8Array(1024 * 1024);
  let length: number;
  try {
    length = readSync(fd, prefix, 0, prefix.length, 0);
  } finally {
    closeSync(fd);
  }
  let bytes: Uint8Array;
  try {
    const out = gunzipSync(prefix.subarray(0, length), { finishFlush: constants.Z_SYNC_FLUSH });
    bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    throw corrupt(path, 'not a gzip stream');
  }
  const records: CaptureRecord[] = [];
  splitRecords(path, bytes, records);
  return parseHeader(path, records[0]);
}

/**
 * Every record after the header, in order, decompressed as a stream (a capture may be far larger
 * than memory). A file cut short (a recorder killed mid-write) ends at its last whole record.
 */
export async function* readCapture(path: string): AsyncGenerator<CaptureRecord> {
  let rest: Uint8Array = new Uint8Array(0);
  let first = true;
  const input = createReadStream(path).pipe(createGunzip({ finishFlush: constants.Z_SYNC_FLUSH }));
  for await (const chunk of input as AsyncIterable<Uint8Array>) {
    const records: CaptureRecord[] = [];
    rest = splitRecords(path, concat(rest, chunk), records);
    for (const record of records) {
      if (first) {
        parseHeader(path, record);
        first = false;
      } else yield record;
    }
  }
}
