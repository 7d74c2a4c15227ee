/**
 * A verifying market-data client for tests and benchmarks: a real WebSocket connection (ws
 * package) that rebuilds every L2 and L3 book it follows from snapshot + updates, checks every
 * sequence and every checksum independently of the server's code (strings, not integers), and
 * remembers recent book states by sequence so they can be compared with a REST snapshot.
 */
import * as zlib from 'node:zlib';
import WebSocket from 'ws';
import { decodeMessage, DecodedMessage } from '../../src/wire/message-decoder';
import { formatUnits, parseUnits } from '../../src/util/decimal';

const crc32 = (zlib as unknown as { crc32(data: string): number }).crc32;

export interface SymbolInfo {
  symbol: string;
  price_decimals: number;
  size_decimals: number;
}

/** Kraken v2 checksum over decimal strings, written from the spec, independent of src/. */
export function krakenChecksum(bids: [string, string][], asks: [string, string][]): number {
  const part = (s: string) => s.replace('.', '').replace(/^0+/, '');
  let text = '';
  for (const [p, s] of asks.slice(0, 10)) text += part(p) + part(s);
  for (const [p, s] of bids.slice(0, 10)) text += part(p) + part(s);
  return crc32(text) >>> 0;
}

class StreamCheck {
  last = -1;
  fresh = true;
  messages = 0;

  /** Snapshot at `seq`: the next update may name any earlier message as its predecessor. */
  snapshot(seq: number): void {
    this.last = seq;
    this.fresh = true;
  }

  update(seq: number, prev: number): string | null {
    this.messages++;
    if (this.last < 0) return `update ${seq} before any snapshot`;
    const ok = this.fresh ? prev <= this.last && seq > this.last : prev === this.last && seq > prev;
    const err = ok ? null : `sequence break: last ${this.last}, got seq ${seq} prev ${prev}`;
    this.last = seq;
    this.fresh = false;
    return err;
  }
}

export class L2Book {
  readonly bids = new Map<string, string>();
  readonly asks = new Map<string, string>();
  readonly check = new StreamCheck();
  checksums = 0;
  /** Snapshots received: the first, and one per resync. */
  snapshots = 0;
  /** Top-10 rendering after each message, by sequence (bounded). */
  readonly history = new Map<number, string>();
  /** Sequences a resync skipped, (last before it, its snapshot): the book there is unknown. */
  readonly unknown: [number, number][] = [];

  top(side: 'bids' | 'asks', n: number): [string, string][] {
    const entries = [...this[side].entries()];
    entries.sort((a, b) => (side === 'bids' ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])));
    return entries.slice(0, n);
  }

  render(n: number): string {
    return JSON.stringify({ bids: this.top('bids', n), asks: this.top('asks', n) });
  }

  remember(seq: number): void {
    this.history.set(seq, this.render(10));
    if (this.history.size > 20000) this.history.delete(this.history.keys().next().value as number);
  }
}

export class L3Book {
  readonly orders = new Map<number, { side: 'bids' | 'asks'; price: string; size: string }>();
  snapshots = 0;
  readonly check = new StreamCheck();
  readonly history = new Map<number, string>();
  /** As L2Book.unknown. */
  readonly unknown: [number, number][] = [];

  /** Aggregated top-n levels, rendered like L2Book.render. */
  render(n: number, sizeDecimals: number): string {
    const levels = { bids: new Map<string, number>(), asks: new Map<string, number>() };
    for (const o of this.orders.values()) {
      levels[o.side].set(o.price, (levels[o.side].get(o.price) ?? 0) + parseUnits(o.size, sizeDecimals));
    }
    const side = (s: 'bids' | 'asks') =>
      [...levels[s].entries()]
        .sort((a, b) => (s === 'bids' ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])))
        .slice(0, n)
        .map(([price, units]) => [price, formatUnits(units, sizeDecimals)]);
    return JSON.stringify({ bids: side('bids'), asks: side('asks') });
  }
}

/** Normalised message: prices and sizes as decimal strings whatever the wire format. */
type Msg = { type: string; id?: unknown; symbol?: string; sequence?: number; prev_sequence?: number; checksum?: number; data?: any; timestamp?: string | number };

export class BookClient {
  readonly ws: WebSocket;
  readonly l2 = new Map<string, L2Book>();
  readonly l3 = new Map<string, L3Book>();
  readonly trades = new Map<string, number[]>();
  readonly tickers = new Map<string, number>();
  /** Trade ids per symbol, in arrival order (a symbol's ids are consecutive: a hole is a lost trade). */
  readonly tradeIds = new Map<string, number[]>();
  readonly failures: string[] = [];
  readonly control: Msg[] = [];
  readonly all: Msg[] = [];
  keepAll = false;
  /** Every message received, of any type, across resyncs. */
  received = 0;
  /** The close code and reason once the connection has closed (a slow consumer is closed with 1013). */
  closedWith: string | null = null;
  private readonly waiters: { test: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];

  constructor(url: string, readonly format: 'json' | 'flatbuffers' | 'market-data', private readonly symbols: Map<string, SymbolInfo>) {
    const path = { json: '/ws', flatbuffers: '/ws?format=flatbuffers', 'market-data': '/api/v1/market-data/stream' }[format];
    this.ws = new WebSocket(url + path);
    this.ws.on('close', (code: number, reason: Buffer) => (this.closedWith = `${code} ${reason.toString()}`));
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      let msg = isBinary ? this.fromBinary(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) : (JSON.parse(data.toString()) as Msg);
      // The Market Data API dialect wraps the feed message in a DATA envelope.
      if (msg.type === 'DATA') {
        const payload = (msg as any).payload;
        if (this.keepAll) this.all.push(msg);
        msg = payload as Msg;
      }
      if (this.keepAll) this.all.push(msg);
      this.received++;
      this.handle(msg);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        if (this.waiters[i].test(msg)) this.waiters.splice(i, 1)[0].resolve(msg);
      }
    });
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message that passes `test`; the deadline is generous, for a loaded machine. */
  next(test: (m: Msg) => boolean, timeoutMs = 60000): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a message (${test})`)), timeoutMs);
      this.waiters.push({ test, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  close(): void {
    this.ws.close();
  }

  private fromBinary(bytes: Uint8Array): Msg {
    const m: DecodedMessage = decodeMessage(bytes);
    if (m.type === 'heartbeat') return { type: 'heartbeat', data: { subscriptions: m.subscriptions } };
    if (m.type === 'subscribed' || m.type === 'error') return { type: m.type, data: m };
    const info = this.symbols.get(m.symbol)!;
    const p = (u: number) => formatUnits(u, info.price_decimals);
    const s = (u: number) => formatUnits(u, info.size_decimals);
    const base = { type: m.type, symbol: m.symbol, sequence: m.sequence, timestamp: m.timestamp };
    switch (m.type) {
      case 'l2_snapshot':
        return { ...base, checksum: m.checksum, data: { depth: m.depth, bids: m.bids.map(([a, b]) => [p(a), s(b)]), asks: m.asks.map(([a, b]) => [p(a), s(b)]) } };
      case 'l2_update':
        return { ...base, prev_sequence: m.prevSequence, checksum: m.checksum, data: { depth: m.depth, bids: m.bids.map(([a, b]) => [p(a), s(b)]), asks: m.asks.map(([a, b]) => [p(a), s(b)]) } };
      case 'l3_snapshot':
        return { ...base, data: { bids: m.bids.map((o) => ({ order_id: o.orderId, price: p(o.price), size: s(o.size) })), asks: m.asks.map((o) => ({ order_id: o.orderId, price: p(o.price), size: s(o.size) })) } };
      case 'l3_update': {
        const ev = ['add', 'modify', 'delete'];
        const conv = (o: { orderId: number; price: number; size: number; event: number }) => ({ event: ev[o.event], order_id: o.orderId, price: p(o.price), size: s(o.size) });
        return { ...base, prev_sequence: m.prevSequence, data: { bids: m.bids.map(conv), asks: m.asks.map(conv) } };
      }
      case 'trade':
        return { ...base, data: { trade_id: m.tradeId, price: p(m.price), size: s(m.size) } };
      case 'ticker':
        return { ...base, data: { bid: m.bid ? p(m.bid) : null } };
      case 'candle':
        return { ...base, data: { interval: m.interval, final: m.final, trades: m.count } };
    }
  }

  private fail(text: string): void {
    if (this.failures.length < 50) this.failures.push(text);
  }

  private handle(m: Msg): void {
    const sym = m.symbol ?? '';
    switch (m.type) {
      case 'l2_snapshot': {
        // A resync (SLOW_CONSUMER, a repeated subscribe) restarts the same book: what it held at
        // each sequence stays true, so its history and counts carry over.
        const book = this.l2.get(sym) ?? new L2Book();
        this.l2.set(sym, book);
        book.bids.clear();
        book.asks.clear();
        book.snapshots++;
        noteResync(book, m.sequence!);
        for (const [p, s] of m.data.bids) book.bids.set(p, s);
        for (const [p, s] of m.data.asks) book.asks.set(p, s);
        book.check.snapshot(m.sequence!);
        this.verifyChecksum(book, m);
        book.remember(m.sequence!);
        break;
      }
      case 'l2_update': {
        const book = this.l2.get(sym);
        if (!book) return this.fail(`${sym}: l2_update without snapshot`);
        const err = book.check.update(m.sequence!, m.prev_sequence!);
        if (err) this.fail(`${sym} l2: ${err}`);
        for (const [side, levels] of [['bids', m.data.bids], ['asks', m.data.asks]] as const) {
          for (const [p, s] of levels as [string, string][]) {
            if (Number(s) === 0) book[side].delete(p);
            else book[side].set(p, s);
          }
          if (book[side].size > m.data.depth) this.fail(`${sym} l2: ${side} holds ${book[side].size} levels > depth ${m.data.depth}`);
        }
        this.verifyChecksum(book, m);
        book.remember(m.sequence!);
        break;
      }
      case 'l3_snapshot': {
        const book = this.l3.get(sym) ?? new L3Book();
        this.l3.set(sym, book);
        book.orders.clear();
        book.snapshots++;
        noteResync(book, m.sequence!);
        for (const side of ['bids', 'asks'] as const) {
          for (const o of m.data[side]) book.orders.set(o.order_id, { side, price: o.price, size: o.size });
        }
        book.check.snapshot(m.sequence!);
        this.rememberL3(sym, book, m.sequence!);
        break;
      }
      case 'l3_update': {
        const book = this.l3.get(sym);
        if (!book) return this.fail(`${sym}: l3_update without snapshot`);
        const err = book.check.update(m.sequence!, m.prev_sequence!);
        if (err) this.fail(`${sym} l3: ${err}`);
        for (const side of ['bids', 'asks'] as const) {
          for (const o of m.data[side]) {
            if (o.event === 'add') {
              if (book.orders.has(o.order_id)) this.fail(`${sym} l3: add of existing order ${o.order_id}`);
              book.orders.set(o.order_id, { side, price: o.price, size: o.size });
            } else if (!book.orders.has(o.order_id)) {
              this.fail(`${sym} l3: ${o.event} of unknown order ${o.order_id}`);
            } else if (o.event === 'delete') {
              book.orders.delete(o.order_id);
            } else {
              book.orders.get(o.order_id)!.size = o.size;
            }
          }
        }
        this.rememberL3(sym, book, m.sequence!);
        break;
      }
      case 'trade': {
        const seqs = this.trades.get(sym) ?? [];
        if (seqs.length && m.sequence! < seqs[seqs.length - 1]) this.fail(`${sym} trades: sequence went back`);
        seqs.push(m.sequence!);
        this.trades.set(sym, seqs);
        const ids = this.tradeIds.get(sym) ?? [];
        ids.push(m.data.trade_id);
        this.tradeIds.set(sym, ids);
        break;
      }
      case 'ticker': {
        const last = this.tickers.get(sym) ?? 0;
        if (m.sequence! < last) this.fail(`${sym} ticker: sequence went back`);
        this.tickers.set(sym, m.sequence!);
        break;
      }
      default:
        this.control.push(m);
    }
  }

  private rememberL3(sym: string, book: L3Book, seq: number): void {
    const info = this.symbols.get(sym)!;
    book.history.set(seq, book.render(10, info.size_decimals));
    if (book.history.size > 5000) book.history.delete(book.history.keys().next().value as number);
  }

  private verifyChecksum(book: L2Book, m: Msg): void {
    const expected = krakenChecksum(book.top('bids', 10), book.top('asks', 10));
    if (expected !== m.checksum) this.fail(`${m.symbol} l2 seq ${m.sequence}: checksum ${m.checksum} but local book gives ${expected}`);
    else book.checksums++;
  }
}

/** The book state a client held at `sequence`: the last remembered state at or before it. */
/**
 * The book's top 10 as it stood at `sequence`, or undefined where the client does not know it:
 * before its first snapshot, or inside the sequences a resync skipped.
 */
export function stateAt(book: { history: Map<number, string>; unknown: [number, number][] }, sequence: number): string | undefined {
  if (book.unknown.some(([last, snapshot]) => sequence > last && sequence < snapshot)) return undefined;
  let best = -1;
  for (const seq of book.history.keys()) if (seq <= sequence && seq > best) best = seq;
  return best < 0 ? undefined : book.history.get(best);
}

/** A snapshot after the first one (a resync): the sequences between are unknown to the client. */
function noteResync(book: { check: StreamCheck; unknown: [number, number][]; snapshots: number }, sequence: number): void {
  if (book.snapshots > 1 && sequence > book.check.last + 1) book.unknown.push([book.check.last, sequence]);
}
