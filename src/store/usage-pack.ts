import type { UsageRecord } from './store';

/**
 * A batch of usage rows as it crosses to the persistence worker: the numbers of every row in one
 * ArrayBuffer, moved (transferred), not copied; the strings once each, by index. Posting the
 * rows as objects made the front thread structure-clone every field of every row, ~7-8k
 * instructions per REST answer (bench/gateway/rest-answer-instructions); a batch's strings are
 * few (route patterns, methods, a handful of callers and user agents).
 */
export interface PackedUsage {
  rows: number;
  /** NUMBERS float64 per row, then STRINGS int32 per row (an index into `strings`, -1 for null). */
  numbers: ArrayBuffer;
  strings: string[];
}

const NUMBERS = 5;
const N_TIME = 0;
const N_RESPONSE_MS = 1;
const N_REQUEST_BYTES = 2;
const N_RESPONSE_BYTES = 3;
const N_STATUS = 4;

const STRINGS = 7;
const S_SUBJECT = 0;
const S_CLIENT = 1;
const S_KEY = 2;
const S_ENDPOINT = 3;
const S_METHOD = 4;
const S_USER_AGENT = 5;
const S_IP = 6;

const ROW_BYTES = NUMBERS * Float64Array.BYTES_PER_ELEMENT + STRINGS * Int32Array.BYTES_PER_ELEMENT;
const NULL_STRING = -1;

/** Fills one PackedUsage at a time, up to `capacity` rows. */
export class UsagePacker {
  private f64!: Float64Array;
  private i32!: Int32Array;
  private strings: string[] = [];
  private readonly index = new Map<string, number>();
  /**
   * Per string column, the value interned last and its index. A caller's rows repeat most of
   * theirs (its subject, address, route, method), as the same string objects: comparing with the
   * last one is cheaper than a map lookup.
   */
  private readonly lastValue: (string | null)[] = new Array<string | null>(STRINGS).fill(null);
  private readonly lastIndex = new Int32Array(STRINGS);
  private count = 0;

  constructor(readonly capacity: number) {
    this.allocate();
  }

  get rows(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Adds a row; the caller takes the batch once it is full. */
  add(row: UsageRecord): void {
    if (this.count === this.capacity) throw new RangeError(`a usage batch holds ${this.capacity} rows`);
    const f = this.count * NUMBERS;
    this.f64[f + N_TIME] = row.time;
    this.f64[f + N_RESPONSE_MS] = row.responseTimeMs;
    this.f64[f + N_REQUEST_BYTES] = row.requestBytes;
    this.f64[f + N_RESPONSE_BYTES] = row.responseBytes;
    this.f64[f + N_STATUS] = row.status;
    const s = this.count * STRINGS;
    this.i32[s + S_SUBJECT] = this.intern(S_SUBJECT, row.subject);
    this.i32[s + S_CLIENT] = row.clientId === null ? NULL_STRING : this.intern(S_CLIENT, row.clientId);
    this.i32[s + S_KEY] = row.keyId === null ? NULL_STRING : this.intern(S_KEY, row.keyId);
    this.i32[s + S_ENDPOINT] = this.intern(S_ENDPOINT, row.endpoint);
    this.i32[s + S_METHOD] = this.intern(S_METHOD, row.method);
    this.i32[s + S_USER_AGENT] = this.intern(S_USER_AGENT, row.userAgent);
    this.i32[s + S_IP] = this.intern(S_IP, row.ip);
    this.count++;
  }

  /** The rows added since the last take, as a batch to post with `numbers` in the transfer list. */
  take(): PackedUsage {
    const batch: PackedUsage = { rows: this.count, numbers: this.f64.buffer as ArrayBuffer, strings: this.strings };
    this.allocate();
    return batch;
  }

  private intern(column: number, value: string): number {
    if (this.lastValue[column] === value) return this.lastIndex[column];
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.strings.push(value) - 1;
      this.index.set(value, i);
    }
    this.lastValue[column] = value;
    this.lastIndex[column] = i;
    return i;
  }

  private allocate(): void {
    ({ f64: this.f64, i32: this.i32 } = columns(new ArrayBuffer(this.capacity * ROW_BYTES)));
    this.strings = [];
    this.index.clear();
    this.lastValue.fill(null);
    this.count = 0;
  }
}

/** A batch buffer's two regions: every row's numbers, then every row's string indexes. */
function columns(buffer: ArrayBuffer): { f64: Float64Array; i32: Int32Array } {
  const capacity = buffer.byteLength / ROW_BYTES;
  return {
    f64: new Float64Array(buffer, 0, capacity * NUMBERS),
    i32: new Int32Array(buffer, capacity * NUMBERS * Float64Array.BYTES_PER_ELEMENT, capacity * STRINGS),
  };
}

/** The rows of a batch, as the store writes them. */
export function unpackUsage(batch: PackedUsage): UsageRecord[] {
  const { f64, i32 } = columns(batch.numbers);
  const text = batch.strings;
  const rows = new Array<UsageRecord>(batch.rows);
  for (let r = 0; r < batch.rows; r++) {
    const f = r * NUMBERS;
    const s = r * STRINGS;
    rows[r] = {
      time: f64[f + N_TIME],
      responseTimeMs: f64[f + N_RESPONSE_MS],
      requestBytes: f64[f + N_REQUEST_BYTES],
      responseBytes: f64[f + N_RESPONSE_BYTES],
      status: f64[f + N_STATUS],
      subject: text[i32[s + S_SUBJECT]],
      clientId: i32[s + S_CLIENT] === NULL_STRING ? null : text[i32[s + S_CLIENT]],
      keyId: i32[s + S_KEY] === NULL_STRING ? null : text[i32[s + S_KEY]],
      endpoint: text[i32[s + S_ENDPOINT]],
      method: text[i32[s + S_METHOD]],
      userAgent: text[i32[s + S_USER_AGENT]],
      ip: text[i32[s + S_IP]],
    };
  }
  return rows;
}
