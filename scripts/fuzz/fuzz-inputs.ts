import { Random } from '../../src/util/random';

/**
 * Seeded generators of hostile client input, cheap enough to make a million in a few seconds.
 * Each mixes the well-formed (so requests get past the first check and reach deeper code) with
 * the malformed at every layer: the JSON text, its shape, each field's type and range, the names
 * (symbols such as `__proto__`), sizes around the server's limits. The same seed gives the same
 * inputs, so a finding can be replayed (`npm run fuzz -- --seed N`).
 */
export class FuzzInputs {
  readonly random: Random;

  constructor(
    seed: number,
    private readonly symbols: readonly string[],
    /** The server's --max-message-bytes: WebSocket messages are generated around it. */
    private readonly maxMessageBytes: number,
  ) {
    this.random = new Random(seed);
  }

  chance(p: number): boolean {
    return this.random.next() < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.random.int(list.length)];
  }

  /** A few distinct items of `list`, sometimes none. */
  some<T>(list: readonly T[], max = 4): T[] {
    const n = this.random.int(max + 1);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(this.pick(list));
    return out;
  }

  /** A symbol as a client might write one: known ones in every spelling, and names that are not. */
  symbol(): string {
    if (this.chance(0.6)) {
      const s = this.pick(this.symbols);
      return this.pick([s, s.replace('/', '-'), s.toLowerCase(), s.replace('/', '%2F'), ` ${s}`]);
    }
    return this.text();
  }

  /** Text that names things badly: prototype keys, control and non-ASCII characters, paths, lengths. */
  text(): string {
    const k = this.random.int(12);
    if (k < 6) return this.pick(WEIRD_TEXT);
    let out = '';
    const n = this.random.int(k === 11 ? 400 : 16);
    for (let i = 0; i < n; i++) out += String.fromCharCode(this.chance(0.9) ? 32 + this.random.int(95) : this.random.int(0x3000));
    return out;
  }

  /** A number, or a near-number of another type, around every boundary the server checks. */
  number(): unknown {
    if (this.chance(0.3)) return this.random.int(1000);
    return this.pick(WEIRD_NUMBERS);
  }

  /** Any JSON value, nested up to `depth`. */
  json(depth = 3): unknown {
    const k = this.random.int(depth > 0 ? 8 : 5);
    if (k === 0) return null;
    if (k === 1) return this.chance(0.5);
    if (k === 2) return this.number();
    if (k === 3 || k === 4) return this.text();
    if (k === 5 || k === 6) return Array.from({ length: this.random.int(4) }, () => this.json(depth - 1));
    const o: Record<string, unknown> = {};
    for (let i = this.random.int(4); i > 0; i--) o[this.chance(0.3) ? this.pick(PROTO_KEYS) : this.text()] = this.json(depth - 1);
    return o;
  }

  /** Replaces, drops or retypes one field of a well-formed object (the most productive mutation). */
  mutate(o: Record<string, unknown>): Record<string, unknown> {
    const keys = Object.keys(o);
    const k = this.random.int(4);
    if (k === 0 && keys.length > 0) delete o[this.pick(keys)];
    else if (k === 1 && keys.length > 0) o[this.pick(keys)] = this.json(2);
    else if (k === 2) o[this.pick(PROTO_KEYS)] = this.json(1);
    else o[this.text()] = this.json(1);
    return o;
  }

  /** JSON text for a WebSocket message: mostly the object, sometimes broken text or a size edge. */
  frame(message: unknown): string | Uint8Array {
    const text = JSON.stringify(message) ?? 'undefined';
    const k = this.random.int(1000);
    if (k < 800) return text;
    if (k < 860) return text.slice(0, this.random.int(text.length + 1)); // truncated: invalid JSON
    if (k < 900) return this.pick(BROKEN_JSON);
    if (k < 960) return JSON.stringify({ ...(message as object), pad: 'x'.repeat(this.maxMessageBytes) }); // over the limit
    if (k < 998) return this.bytes(64);
    // Rarely (each ends the connection, and the client reconnects): invalid UTF-8 in a text
    // frame, and a message past 16x the limit, which uWS refuses before bookcast sees it.
    if (k === 998) return new InvalidUtf8Text(Buffer.from(`{"type":"ping","id":"\xff\xfe${'\u00e9'.repeat(this.random.int(8))}"}`, 'latin1'));
    return 'x'.repeat(this.maxMessageBytes * 16 + 1);
  }

  /** Random bytes (binary frames). */
  bytes(max: number): Uint8Array {
    const b = new Uint8Array(this.random.int(max + 1));
    for (let i = 0; i < b.length; i++) b[i] = this.random.int(256);
    return b;
  }

  /** A copy of a valid frame with a few bytes flipped, the tail cut, or bytes inserted. */
  corrupt(frame: Uint8Array): Uint8Array {
    const b = frame.slice();
    const k = this.random.int(4);
    if (k === 0 || b.length === 0) {
      const tail = this.bytes(16);
      const out = new Uint8Array(b.length + tail.length);
      out.set(b);
      out.set(tail, b.length);
      return out;
    }
    if (k === 1) return b.subarray(0, this.random.int(b.length));
    for (let i = 1 + this.random.int(4); i > 0; i--) b[this.random.int(b.length)] = this.random.int(256);
    return b;
  }

  /** A value for a query parameter: plausible, out of range, or not a value at all. */
  param(plausible: readonly string[]): string {
    if (this.chance(0.6)) return this.pick(plausible);
    const v = this.number();
    return this.chance(0.5) ? String(v) : this.text();
  }
}

/** Bytes to send as a text frame although they are not UTF-8 (other bytes go as binary frames). */
export class InvalidUtf8Text extends Uint8Array {}

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;

const WEIRD_TEXT = [
  '', ' ', '__proto__', 'constructor', 'toString', 'null', 'undefined', 'NaN', '-', '/', '//', '%', '%zz', '%00', '%2F',
  '..', '../..', '\u0000', '\n', '\t', 'é', '😀', '\ud800', '\uffff', 'BTC/USD/BTC', 'BTC--USD', 'A'.repeat(65), '0', '-1', '1e309',
];

const WEIRD_NUMBERS: readonly unknown[] = [
  0, -0, 1, -1, 0.5, 1.5, 10, 25, 50, 100, 500, 501, 1000, 1001, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e21, 1e300,
  -1e300, 5e-324, '1', '10', '0x10', '1e3', '', ' ', 'abc', null, true, [], {}, [10], { n: 10 },
];

const BROKEN_JSON = ['', '{', '}', '[', '"', 'nul', '{"type":', '{"type":"ping",}', "{'type':'ping'}", '{"a":1}{"b":2}', '[[[[[[[[[[[[[[[[[[[[[[[[', '1e999999', '"\\ud800"', '{"type":"\\u0000"}'];
