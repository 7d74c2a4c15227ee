import { BookcastClient } from '../../src/client';
import type { ClientOptions, ControlMessage, FeedMessage, HeartbeatMessage } from '../../src/client';
import { HANG_GUARD_MS, type SymbolInfo } from './test-server';

/** What a client saw of one book stream (`l2 BTC/USD`, `l3 BTC/USD`): verified messages only. */
export class StreamRecord {
  snapshots = 0;
  updates = 0;
  /** The sequence of the last verified message (-1 before the first snapshot). */
  last = -1;
  /** Top 10 after each verified message, by sequence, rendered as REST's orderbook (bounded). */
  readonly states = new Map<number, string>();
  /** Sequences a later snapshot skipped, (last before it, the snapshot's): the book there is unknown to the client. */
  readonly unknown: [number, number][] = [];

  note(snapshot: boolean, sequence: number, state: string): void {
    if (snapshot) {
      if (this.snapshots > 0 && sequence > this.last + 1) this.unknown.push([this.last, sequence]);
      this.snapshots++;
    } else {
      this.updates++;
    }
    this.last = sequence;
    this.states.set(sequence, state);
    if (this.states.size > 20_000) this.states.delete(this.states.keys().next().value as number);
  }

  /** The top 10 at `sequence`, or undefined where the client did not know the book. */
  at(sequence: number): string | undefined {
    if (this.unknown.some(([a, b]) => sequence > a && sequence < b)) return undefined;
    let best = -1;
    for (const s of this.states.keys()) if (s <= sequence && s > best) best = s;
    return best < 0 ? undefined : this.states.get(best);
  }
}

/**
 * What tests look at of an SDK client (src/client), taken from its events: the verified books'
 * states by sequence, trade ids and ticker sequences by symbol, heartbeats, replies, resyncs, how
 * the connection closed, and `next()` for the next message in arrival order that passes a test.
 * Decoding, the sequence rule and the checksums are the SDK's; this only records.
 */
export class ClientRecorder {
  readonly streams = new Map<string, StreamRecord>();
  /** Trade ids per symbol in arrival order (consecutive within a symbol: a hole is a lost trade). */
  readonly tradeIds = new Map<string, number[]>();
  /** The last ticker sequence per symbol. */
  readonly tickers = new Map<string, number>();
  readonly heartbeats: HeartbeatMessage[] = [];
  /** Replies to requests (`subscribed`, `unsubscribed`, `pong`, `error`) in arrival order. */
  readonly replies: ControlMessage[] = [];
  /** Resyncs the client had to ask for (`l2 BTC/USD gap`): on a healthy connection, none. */
  readonly resyncs: string[] = [];
  /** Messages received, of any type. */
  received = 0;
  /** `code reason` once a connection has closed (a slow consumer is closed with 1013). */
  closedWith: string | null = null;
  private readonly waiters = new Set<{ test: (m: FeedMessage) => boolean; resolve: (m: FeedMessage) => void }>();

  constructor(
    readonly client: BookcastClient,
    sizeDecimals: (symbol: string) => number,
  ) {
    client.on('l2', (book, m) => this.stream(`l2 ${book.symbol}`).note(m.type === 'l2_snapshot', book.sequence, JSON.stringify(book.top(10))));
    client.on('l3', (book, m) => this.stream(`l3 ${book.symbol}`).note(m.type === 'l3_snapshot', book.sequence, JSON.stringify(book.levels(10, sizeDecimals(book.symbol)))));
    client.on('trade', (m) => {
      const ids = this.tradeIds.get(m.symbol) ?? [];
      this.tradeIds.set(m.symbol, ids);
      ids.push(m.data.trade_id);
    });
    client.on('ticker', (m) => this.tickers.set(m.symbol, m.sequence));
    client.on('heartbeat', (m) => this.heartbeats.push(m));
    client.on('resync', (r) => this.resyncs.push(`${r.channel} ${r.symbol} ${r.reason} at ${r.sequence}`));
    client.on('close', (code, reason) => (this.closedWith = `${code} ${reason}`));
    client.on('message', (m) => {
      this.received++;
      if (m.type === 'subscribed' || m.type === 'unsubscribed' || m.type === 'pong' || m.type === 'error') this.replies.push(m);
      for (const w of this.waiters) if (w.test(m)) (this.waiters.delete(w), w.resolve(m));
    });
  }

  /** The record of a stream (`l2 BTC/USD`), empty until its first snapshot. */
  stream(key: string): StreamRecord {
    let s = this.streams.get(key);
    if (s === undefined) this.streams.set(key, (s = new StreamRecord()));
    return s;
  }

  /** The next message (any type, arrival order) that passes `test`. */
  next<M extends FeedMessage = FeedMessage>(test: (m: FeedMessage) => boolean, timeoutMs = HANG_GUARD_MS): Promise<M> {
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        resolve: (m: FeedMessage) => {
          clearTimeout(timer);
          resolve(m as M);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out waiting for a message (${test})${this.closedWith === null ? '' : `; the connection closed: ${this.closedWith}`}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}

/**
 * An SDK client of a test server, connected, with its recorder. No reconnect unless asked: a test
 * must see a closed connection, not a quiet new one.
 */
export async function connectRecorded(srv: { url: string; symbols: Map<string, SymbolInfo> }, options: Omit<ClientOptions, 'url'> = {}): Promise<ClientRecorder> {
  const recorder = new ClientRecorder(new BookcastClient({ url: srv.url, reconnect: false, ...options }), (s) => srv.symbols.get(s)!.size_decimals);
  await recorder.client.connect();
  return recorder;
}
