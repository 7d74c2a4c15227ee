import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BookcastError } from '../errors';

/**
 * LOBSTER sample files (lobsterdata.com): finding the pair, naming, and parsing rows.
 *
 *   TICKER_YYYY-MM-DD_START_END_message_N.csv     time,type,orderId,size,price,direction
 *   TICKER_YYYY-MM-DD_START_END_orderbook_N.csv   askPrice1,askSize1,bidPrice1,bidSize1, ... N levels
 *
 * Row i of the orderbook file is the book after message i. Prices are dollars x 10000; an empty
 * level is 9999999999 (ask) or -9999999999 (bid) with size 0. Files are read whole (the largest
 * sample is 34 MB) and parsed from the bytes, without decoding to strings or splitting lines, so
 * a row costs no allocation.
 */

export const LOBSTER_FILE_NOT_FOUND = 'LOBSTER_FILE_NOT_FOUND';
export const LOBSTER_BAD_NAME = 'LOBSTER_BAD_NAME';
export const LOBSTER_BAD_ROW = 'LOBSTER_BAD_ROW';
export const LOBSTER_INCONSISTENT = 'LOBSTER_INCONSISTENT';

export type LobsterErrorCode =
  | typeof LOBSTER_FILE_NOT_FOUND
  | typeof LOBSTER_BAD_NAME
  | typeof LOBSTER_BAD_ROW
  | typeof LOBSTER_INCONSISTENT;

/** A LOBSTER file problem; its codes are in the error catalog (src/errors.ts). */
export class LobsterError extends BookcastError {
  constructor(code: LobsterErrorCode, message: string) {
    super(code, message);
    this.name = 'LobsterError';
  }
}

/** Message types, as LOBSTER numbers them. */
export const LOBSTER_ADD = 1;
export const LOBSTER_CANCEL = 2;
export const LOBSTER_DELETE = 3;
export const LOBSTER_EXECUTE = 4;
export const LOBSTER_HIDDEN_EXECUTE = 5;
export const LOBSTER_CROSS = 6;
export const LOBSTER_HALT = 7;

/** Placeholder prices of an empty level. */
export const LOBSTER_EMPTY_ASK = 9999999999;
export const LOBSTER_EMPTY_BID = -9999999999;

/** One message row; the reader below is one, refilled by each next(). */
export interface LobsterMessage {
  /** Microseconds since the Unix epoch, taking the file's date at UTC midnight (see parseTime). */
  time: number;
  type: number;
  orderId: number;
  size: number;
  /** Dollars x 10000. */
  price: number;
  /** 1 buy, -1 sell: the side of the resting order. */
  direction: number;
}

export interface LobsterFiles {
  ticker: string;
  /** YYYY-MM-DD, as in the name. */
  date: string;
  /** The name's window, milliseconds after midnight. */
  startMs: number;
  endMs: number;
  depth: number;
  messagePath: string;
  orderbookPath: string;
  /** The date's midnight, UTC, in microseconds since the Unix epoch. */
  midnightMicros: number;
}

const NAME = /^([^_]+)_(\d{4})-(\d{2})-(\d{2})_(\d+)_(\d+)_message_(\d+)\.csv$/;

/** Names the orderbook file that belongs to `messagePath` and checks that both exist. */
export function lobsterFiles(messagePath: string): LobsterFiles {
  const name = basename(messagePath);
  const m = NAME.exec(name);
  if (m === null) {
    throw new LobsterError(
      LOBSTER_BAD_NAME,
      `${name}: not a LOBSTER message file name (TICKER_YYYY-MM-DD_START_END_message_N.csv)`,
    );
  }
  const [, ticker, year, month, day, start, end, level] = m;
  const midnightMs = Date.UTC(Number(year), Number(month) - 1, Number(day));
  const check = new Date(midnightMs);
  const depth = Number(level);
  if (check.getUTCMonth() !== Number(month) - 1 || check.getUTCDate() !== Number(day) || !(depth >= 1)) {
    throw new LobsterError(LOBSTER_BAD_NAME, `${name}: bad date or depth in the name`);
  }
  const orderbookPath = join(dirname(messagePath), name.replace(/_message_(\d+)\.csv$/, '_orderbook_$1.csv'));
  for (const path of [messagePath, orderbookPath]) {
    if (!existsSync(path)) throw new LobsterError(LOBSTER_FILE_NOT_FOUND, `${path}: no such file`);
  }
  return {
    ticker,
    date: `${year}-${month}-${day}`,
    startMs: Number(start),
    endMs: Number(end),
    depth,
    messagePath,
    orderbookPath,
    midnightMicros: midnightMs * 1000,
  };
}

/**
 * The folder holding the LOBSTER samples: BOOKCAST_LOBSTER_DIR, else ../shared/data/lobster
 * beside the repository (this file runs from dist/src/source/).
 */
export function lobsterDataDir(): string {
  return process.env.BOOKCAST_LOBSTER_DIR ?? resolve(__dirname, '../../../../shared/data/lobster');
}

/** Every message file in `dir` and its immediate subfolders, sorted; [] if `dir` is absent. */
export function findLobsterSamples(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  const scan = (folder: string) => {
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      if (NAME.test(entry)) found.push(path);
      else if (folder === dir && statSync(path).isDirectory()) scan(path);
    }
  };
  scan(dir);
  return found.sort();
}

const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const FIVE = 0x35;
const NINE = 0x39;

/** 10^(9 - digits): scales a fraction of `digits` digits to nanoseconds. */
const NANO_SCALE = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];
/** Decimals accepted in a time field: nine, plus the artifacts of a 17-significant-digit double. */
export const MAX_DECIMALS = 20;

function readWhole(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new LobsterError(LOBSTER_FILE_NOT_FOUND, `${path}: ${(error as Error).message}`);
  }
}

/**
 * A cursor over a CSV of numbers. Fields are read in place from the bytes; -1 positions and NaN
 * values report a malformed field to the caller, which knows the row and names it.
 */
class ByteCursor {
  readonly bytes: Buffer;
  pos = 0;
  /** 1-based line number of the row being read. */
  line = 0;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  /** Starts the next row; false at the end of the data (a final newline is optional). */
  startRow(): boolean {
    if (this.pos >= this.bytes.length) return false;
    this.line++;
    return true;
  }

  /** An optionally negative integer ending at a comma (consumed) or a line end (not consumed). */
  integer(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    let negative = false;
    if (bytes[pos] === MINUS) {
      negative = true;
      pos++;
    }
    const first = pos;
    let value = 0;
    while (pos < bytes.length) {
      const c = bytes[pos];
      if (c < ZERO || c > NINE) break;
      value = value * 10 + (c - ZERO);
      pos++;
    }
    if (pos === first || pos - first > 15) return NaN;
    this.pos = pos;
    return negative ? -value : value;
  }

  /**
   * Seconds after midnight as integer microseconds. The digits are combined as integers, so
   * "34200.004241176" is 34200004241 exactly. LOBSTER writes up to nine decimals, but files that
   * went through binary floating point carry artifacts past the nanosecond ("43002.632812672004"):
   * up to MAX_DECIMALS decimals are read, rounded to the nanosecond (half up, on the digits, never
   * through a float), and then digits below the microsecond are truncated (not rounded), which
   * keeps timestamps monotonic. A carry from the rounding reaches the whole seconds.
   */
  seconds(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    const first = pos;
    let whole = 0;
    while (pos < bytes.length && bytes[pos] >= ZERO && bytes[pos] <= NINE) {
      whole = whole * 10 + (bytes[pos] - ZERO);
      pos++;
    }
    if (pos === first || pos - first > 6) return NaN;
    let nanos = 0;
    if (pos < bytes.length && bytes[pos] === DOT) {
      pos++;
      const fracStart = pos;
      while (pos < bytes.length && bytes[pos] >= ZERO && bytes[pos] <= NINE) {
        const place = pos - fracStart;
        if (place < 9) nanos = nanos * 10 + (bytes[pos] - ZERO);
        else if (place === 9 && bytes[pos] >= FIVE) nanos += 1;
        pos++;
      }
      const digits = pos - fracStart;
      if (digits === 0 || digits > MAX_DECIMALS) return NaN;
      if (digits < 9) nanos *= NANO_SCALE[digits];
    }
    this.pos = pos;
    // nanos <= 10^9 (a carry), so this is exact integer arithmetic.
    return whole * 1_000_000 + Math.floor(nanos / 1000);
  }

  /** Consumes the comma between fields; false if something else is there. */
  comma(): boolean {
    if (this.bytes[this.pos] !== COMMA) return false;
    this.pos++;
    return true;
  }

  /** Consumes the line end (LF or CRLF) or accepts the end of data; false if the row goes on. */
  endRow(): boolean {
    const bytes = this.bytes;
    if (this.pos >= bytes.length) return true;
    if (bytes[this.pos] === CR) this.pos++;
    if (bytes[this.pos] !== LF) return false;
    this.pos++;
    return true;
  }
}

function badRow(path: string, line: number, what: string): LobsterError {
  return new LobsterError(LOBSTER_BAD_ROW, `${path}:${line}: ${what}`);
}

/** Reads a message file row by row; the reader itself holds the current row's fields. */
export class LobsterMessageReader implements LobsterMessage {
  readonly path: string;
  time = 0;
  type = 0;
  orderId = 0;
  size = 0;
  price = 0;
  direction = 0;
  private readonly cursor: ByteCursor;
  private readonly midnightMicros: number;

  constructor(path: string, midnightMicros: number) {
    this.path = path;
    this.midnightMicros = midnightMicros;
    this.cursor = new ByteCursor(readWhole(path));
  }

  /** 1-based line of the current row (0 before the first). */
  get line(): number {
    return this.cursor.line;
  }

  /** Loads the next row; false at the end. Throws LOBSTER_BAD_ROW naming the line. */
  next(): boolean {
    const c = this.cursor;
    if (!c.startRow()) return false;
    const seconds = c.seconds();
    if (!(seconds >= 0) || !c.comma()) throw badRow(this.path, c.line, `time is not seconds with up to ${MAX_DECIMALS} decimals`);
    const type = c.integer();
    const ok1 = c.comma();
    const orderId = c.integer();
    const ok2 = c.comma();
    const size = c.integer();
    const ok3 = c.comma();
    const price = c.integer();
    const ok4 = c.comma();
    const direction = c.integer();
    if (!(ok1 && ok2 && ok3 && ok4 && c.endRow())) throw badRow(this.path, c.line, 'expected 6 numeric fields');
    if (!(type >= LOBSTER_ADD && type <= LOBSTER_HALT)) throw badRow(this.path, c.line, `unknown message type ${type}`);
    if (!(orderId >= 0 && size >= 0) || Number.isNaN(price)) throw badRow(this.path, c.line, 'bad order id, size or price');
    if (direction !== 1 && direction !== -1) throw badRow(this.path, c.line, `direction ${direction} is not 1 or -1`);
    this.time = this.midnightMicros + seconds;
    this.type = type;
    this.orderId = orderId;
    this.size = size;
    this.price = price;
    this.direction = direction;
    return true;
  }
}

/** Reads an orderbook file row by row into `row` (4 x depth raw LOBSTER numbers, reused). */
export class LobsterBookReader {
  readonly path: string;
  readonly depth: number;
  readonly row: Float64Array;
  private readonly cursor: ByteCursor;

  constructor(path: string, depth: number) {
    this.path = path;
    this.depth = depth;
    this.row = new Float64Array(4 * depth);
    this.cursor = new ByteCursor(readWhole(path));
  }

  get line(): number {
    return this.cursor.line;
  }

  next(): boolean {
    const c = this.cursor;
    if (!c.startRow()) return false;
    const row = this.row;
    for (let k = 0; k < row.length; k++) {
      const value = c.integer();
      if (Number.isNaN(value) || (k < row.length - 1 && !c.comma())) {
        throw badRow(this.path, c.line, `expected ${row.length} numeric fields`);
      }
      row[k] = value;
    }
    if (!c.endRow()) throw badRow(this.path, c.line, `more than ${row.length} fields`);
    return true;
  }
}

/** Parses one time field exactly like the message reader does (for tools and tests). */
export function parseLobsterTime(text: string, midnightMicros: number): number {
  const cursor = new ByteCursor(Buffer.from(text, 'latin1'));
  cursor.startRow();
  const seconds = cursor.seconds();
  if (!(seconds >= 0) || !cursor.endRow()) {
    throw new LobsterError(LOBSTER_BAD_ROW, `"${text}" is not seconds with up to ${MAX_DECIMALS} decimals`);
  }
  return midnightMicros + seconds;
}
