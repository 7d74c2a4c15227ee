import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { Backoff } from './backoff';
import { Decimals, frameToMessage } from './flatbuffers-frames';
import { ApplyResult, L2Book } from './l2-book';
import { L3Book } from './l3-book';
import { fromMarketData, marketDataRequest, unsupportedChannels } from './market-data-dialect';
import type {
  CandleMessage, Channel, ControlMessage, FeedMessage, FeedRequest, HeartbeatMessage, L2SnapshotMessage, L2UpdateMessage, L3SnapshotMessage,
  L3UpdateMessage, ResumeMessage, ServerShutdownMessage, SubscriptionState, TickerMessage, TradeMessage,
} from './messages';

/** Longest subscribe the client sends with resume points: room under the server's default 4096 bytes for the Market Data API's wrapping. */
const RESUME_REQUEST_CHARS = 3000;

/** `feed`: the WebSocket feed at `/ws`; `market-data`: the Market Data API stream at `/api/v1/market-data/stream`. */
export type Dialect = 'feed' | 'market-data';

/** A subscribe request as the feed takes it (README, WebSocket feed). */
export interface Subscription {
  channels: Channel[];
  symbols: string[];
  depth?: number;
  interval?: string;
  throttle_ms?: number;
}

export interface ClientOptions {
  /**
   * The server, `ws://host:port` (the SDK adds `/ws`), or several (edges, a primary): the first is
   * tried first, and each reconnect goes to the next one in turn.
   */
  url: string | readonly string[];
  /** `json` (default) or `flatbuffers` (binary data frames; control replies stay JSON; feed dialect only). */
  format?: 'json' | 'flatbuffers';
  /**
   * `feed` (default) or `market-data`: the Market Data API stream, JSON only and without l3. Same
   * books, events and message shapes either way (its DATA envelopes are unwrapped, its replies and
   * heartbeats renamed: market-data-dialect.ts).
   */
  dialect?: Dialect;
  /** Reconnect after a lost connection with jittered exponential backoff (default on: 250 ms doubling up to 10 s); false to stay closed. */
  reconnect?: { baseMs?: number; capMs?: number } | false;
  /**
   * After a reconnect, ask for what was missed since the last message of each stream (default
   * on; README "Resume"); false: every stream starts again from a fresh snapshot.
   */
  resume?: boolean;
}

/** Why a stream was resynchronised: a sequence gap, or a checksum the local book disagrees with. */
export interface Resync {
  channel: 'l2' | 'l3';
  symbol: string;
  reason: 'gap' | 'checksum';
  /** The sequence the local book held when the problem was found. */
  sequence: number;
}

/** The events a BookcastClient emits, with their arguments. */
export interface ClientEvents {
  open: [];
  close: [code: number, reason: string];
  reconnecting: [attempt: number, delayMs: number];
  subscribed: [reply: ControlMessage];
  /** The server refused a request (`data.code`, `data.message`). */
  refused: [reply: ControlMessage];
  /** A verified L2 book after a snapshot or an update. */
  l2: [book: L2Book, message: L2SnapshotMessage | L2UpdateMessage];
  l3: [book: L3Book, message: L3SnapshotMessage | L3UpdateMessage];
  trade: [message: TradeMessage];
  ticker: [message: TickerMessage];
  candle: [message: CandleMessage];
  heartbeat: [message: HeartbeatMessage];
  /**
   * Every message as it arrives, before the books apply it: the JSON dialect's shape (a FlatBuffers
   * frame converted, a Market Data envelope unwrapped or renamed) and the frame it came in, untouched
   * (for recording, or a field the SDK does not surface). Not emitted when nobody listens.
   */
  message: [message: FeedMessage, frame: Buffer];
  /** A gap or a bad checksum was found; a fresh snapshot has been asked for. */
  resync: [resync: Resync];
  /** How a stream resumed after a reconnect: replayed what was missed, or a fresh snapshot (and why). */
  resumed: [notice: ResumeMessage];
  /** The server is stopping: the client reconnects (to the next URL) after the server's hint. */
  shutdown: [notice: ServerShutdownMessage];
  /** A transport error (emitted only when someone listens: a lost connection is reconnected anyway). */
  error: [error: Error];
}

export interface BookcastClient {
  on<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): this;
  once<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): this;
  off<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): this;
  emit<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]): boolean;
}

/**
 * A bookcast feed client: keeps a verified L2 and L3 book per subscribed symbol and recovers by
 * itself. Every L2 message is checked against the sequence rule and the book's own checksum, every
 * L3 message against the sequence rule and the orders it holds; on a failure the client asks for a
 * fresh snapshot of that stream (a repeated subscribe resynchronises it on the server) and ignores
 * the stream's updates until the snapshot arrives. A lost connection is reopened after a jittered
 * backoff (or after the delay a `server_shutdown` hinted), on the next of its URLs, and every
 * request is sent again with the last sequence of each of its streams (`resume_from`), so the
 * server replays what was missed and the books carry on; where it cannot, a fresh snapshot.
 */
export class BookcastClient extends EventEmitter {
  readonly format: 'json' | 'flatbuffers';
  readonly dialect: Dialect;
  private readonly l2Books = new Map<string, L2Book>();
  private readonly l3Books = new Map<string, L3Book>();
  /** Streams (`l2 BTC/USD`) waiting for the snapshot a resync asked for. */
  private readonly resyncing = new Set<string>();
  /** Every request sent, replayed in order after a reconnect. */
  private readonly requests: FeedRequest[] = [];
  /** Market Data API requests carry a request_id: r1, r2, … */
  private requestIds = 0;
  private readonly decimals = new Map<string, Decimals>();
  private readonly backoff: Backoff | null;
  private socket: WebSocket | null = null;
  private readonly urls: readonly string[];
  /** Index in `urls` of the server connected to (or tried) last. */
  private urlAt = 0;
  /** Last sequence got per stream, keyed as resume_from names it: `l2 BTC/USD`, `candles:1m BTC/USD`. */
  private readonly sequences = new Map<string, SubscriptionState>();
  /** Id of the last trade got per symbol, and the ids to drop after a resume on a server behind the last one. */
  private readonly tradeIds = new Map<string, number>();
  private readonly replayedTrades = new Map<string, number>();
  /** The delay a server_shutdown hinted for the next reconnect, or null. */
  private shutdownHintMs: number | null = null;
  private closed = false;
  private readingPaused = false;
  private timer: NodeJS.Timeout | null = null;
  /** Resyncs asked for so far, by reason (also emitted one by one as `resync`). */
  readonly resyncs = { gap: 0, checksum: 0 };
  /** Connections opened, the first included. */
  connections = 0;

  constructor(private readonly options: ClientOptions) {
    super();
    this.format = options.format ?? 'json';
    this.dialect = options.dialect ?? 'feed';
    if (this.dialect === 'market-data' && this.format !== 'json') throw new Error('the Market Data API stream is JSON only');
    this.backoff = options.reconnect === false ? null : new Backoff(options.reconnect?.baseMs ?? 250, options.reconnect?.capMs ?? 10_000);
    this.urls = typeof options.url === 'string' ? [options.url] : [...options.url];
    if (this.urls.length === 0) throw new Error('url names no server');
  }

  /** The server connected to (or tried) last. */
  get url(): string {
    return this.urls[this.urlAt];
  }

  /** Where each stream stands: the last sequence got on it, as a subscribe's resume_from takes it. */
  resumePoints(): SubscriptionState[] {
    return [...this.sequences.values()].map((p) => ({ ...p }));
  }

  /** Opens the connection; resolves once it is open (FlatBuffers first reads every symbol's decimals over REST). */
  async connect(): Promise<void> {
    if (this.format === 'flatbuffers') await this.loadDecimals();
    await new Promise<void>((resolve, reject) => {
      this.open();
      const socket = this.socket!;
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
  }

  /** Subscribes (again: a repeated subscribe resynchronises the streams it names). */
  subscribe(subscription: Subscription): void {
    const unsupported = this.dialect === 'market-data' ? unsupportedChannels(subscription.channels) : [];
    if (unsupported.length > 0) throw new Error(`the Market Data API stream has no ${unsupported.join(', ')}`);
    this.request({ type: 'subscribe', ...subscription });
  }

  unsubscribe(subscription: Pick<Subscription, 'channels' | 'symbols'>): void {
    this.request({ type: 'unsubscribe', ...subscription });
  }

  /** The verified L2 book of a symbol, as the server spells it (BTC/USD); undefined before its snapshot. */
  book(symbol: string): L2Book | undefined {
    return this.l2Books.get(symbol);
  }

  l3(symbol: string): L3Book | undefined {
    return this.l3Books.get(symbol);
  }

  /**
   * Stops reading the socket: frames wait in the kernel's buffers, then in the server's, as they
   * would for a client too slow to keep up (the server's slow-consumer handling then applies).
   * Reading starts again with resumeReading(), also after a reconnect.
   */
  pauseReading(): void {
    this.readingPaused = true;
    this.socket?.pause();
  }

  resumeReading(): void {
    this.readingPaused = false;
    this.socket?.resume();
  }

  /** Closes for good (no reconnect). */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.socket?.close();
  }

  private request(message: FeedRequest): void {
    this.requests.push(message);
    if (this.socket?.readyState === WebSocket.OPEN) this.send(this.socket, message);
  }

  /** A request in the connection's dialect. */
  private send(socket: WebSocket, message: FeedRequest): void {
    socket.send(JSON.stringify(this.dialect === 'market-data' ? marketDataRequest(message, `r${++this.requestIds}`) : message));
  }

  private async loadDecimals(): Promise<void> {
    const http = this.url.replace(/^ws/, 'http');
    const answer = (await (await fetch(`${http}/api/v1/market/symbols`)).json()) as { symbols: (Decimals & { symbol: string })[] };
    for (const s of answer.symbols) this.decimals.set(s.symbol, { price_decimals: s.price_decimals, size_decimals: s.size_decimals });
  }

  private open(): void {
    const path = this.dialect === 'market-data' ? '/api/v1/market-data/stream' : `/ws${this.format === 'flatbuffers' ? '?format=flatbuffers' : ''}`;
    const socket = new WebSocket(`${this.url}${path}`);
    this.socket = socket;
    socket.on('open', () => {
      if (this.readingPaused) socket.pause();
      this.connections++;
      this.backoff?.reset();
      this.resyncing.clear();
      const resumed = new Set<string>();
      for (const r of this.requests) {
        for (const part of this.options.resume === false ? [r] : this.withResumePoints(r, resumed)) this.send(socket, part);
      }
      this.emit('open');
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    socket.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    socket.on('close', (code, reason) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.emit('close', code, reason.toString());
      if (!this.closed && this.backoff !== null) this.reconnectLater();
    });
  }

  private reconnectLater(): void {
    // The next server in turn; a draining server's hint replaces the backoff (it is jittered already).
    this.urlAt = (this.urlAt + 1) % this.urls.length;
    const backoff = this.backoff!.next();
    const delay = this.shutdownHintMs ?? backoff;
    this.shutdownHintMs = null;
    this.emit('reconnecting', this.backoff!.attempts, delay);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) this.open();
    }, delay);
  }

  /**
   * A subscribe with the last sequence of each of its streams that has one; a stream is resumed
   * once per connection (`resumed`), since a second resume_from for it would be refused. Split by
   * symbols into requests of at most RESUME_REQUEST_CHARS, so many streams stay within the
   * server's --max-message-bytes (4096 by default).
   */
  private withResumePoints(request: FeedRequest, resumed: Set<string>): FeedRequest[] {
    if (request.type !== 'subscribe') return [request];
    const parts: FeedRequest[] = [];
    let symbols: string[] = [];
    let points: SubscriptionState[] = [];
    const flush = () => {
      if (symbols.length > 0) parts.push(points.length === 0 ? { ...request, symbols } : { ...request, symbols, resume_from: points });
      symbols = [];
      points = [];
    };
    for (const symbol of request.symbols) {
      const mine: SubscriptionState[] = [];
      for (const channel of request.channels) {
        const name = channel === 'candles' ? `candles:${request.interval ?? '1m'}` : channel;
        const key = `${name} ${symbol}`;
        const point = this.sequences.get(key);
        if (point === undefined || resumed.has(key) || (channel === 'l2' && point.depth !== (request.depth ?? 10))) continue;
        resumed.add(key);
        mine.push({ ...point });
      }
      if (symbols.length > 0 && JSON.stringify({ ...request, symbols: [...symbols, symbol], resume_from: [...points, ...mine] }).length > RESUME_REQUEST_CHARS) flush();
      symbols.push(symbol);
      points.push(...mine);
    }
    flush();
    return parts;
  }

  /** The last sequence got on a stream. */
  private saw(channel: string, symbol: string, sequence: number, depth?: number): void {
    const key = `${channel} ${symbol}`;
    const point = this.sequences.get(key);
    if (point === undefined) this.sequences.set(key, depth === undefined ? { channel, symbol, sequence } : { channel, symbol, depth, sequence });
    else {
      point.sequence = sequence;
      if (depth !== undefined) point.depth = depth;
    }
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    let message: FeedMessage | null;
    try {
      message = isBinary ? frameToMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.decimals) : JSON.parse(data.toString());
      if (this.dialect === 'market-data' && message !== null) message = fromMarketData(message as never);
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err as Error);
      return;
    }
    if (message === null) return;
    if (this.listenerCount('message') > 0) this.emit('message', message, data);
    this.dispatch(message);
  }

  private dispatch(m: FeedMessage): void {
    switch (m.type) {
      case 'l2_snapshot':
      case 'l2_update': {
        const book = this.l2Books.get(m.symbol) ?? new L2Book(m.symbol);
        this.l2Books.set(m.symbol, book);
        const stream = `l2 ${m.symbol}`;
        if (m.type === 'l2_update' && this.resyncing.has(stream)) return;
        const before = book.sequence;
        const result = m.type === 'l2_snapshot' ? book.applySnapshot(m) : book.applyUpdate(m);
        this.settle('l2', m.symbol, result, before, () => {
          this.saw('l2', m.symbol, m.sequence, m.data.depth);
          this.emit('l2', book, m);
        }, { depth: book.depth || m.data.depth });
        return;
      }
      case 'l3_snapshot':
      case 'l3_update': {
        const book = this.l3Books.get(m.symbol) ?? new L3Book(m.symbol);
        this.l3Books.set(m.symbol, book);
        if (m.type === 'l3_update' && this.resyncing.has(`l3 ${m.symbol}`)) return;
        const before = book.sequence;
        const result = m.type === 'l3_snapshot' ? book.applySnapshot(m) : book.applyUpdate(m);
        this.settle('l3', m.symbol, result, before, () => {
          this.saw('l3', m.symbol, m.sequence);
          this.emit('l3', book, m);
        }, {});
        return;
      }
      case 'trade': {
        // Ids are consecutive per symbol and the same on every server of one primary.
        const through = this.replayedTrades.get(m.symbol);
        if (through !== undefined && m.data.trade_id <= through) return;
        this.replayedTrades.delete(m.symbol);
        this.tradeIds.set(m.symbol, m.data.trade_id);
        this.saw('trades', m.symbol, m.sequence);
        this.emit('trade', m);
        return;
      }
      case 'ticker':
        this.saw('ticker', m.symbol, m.sequence);
        this.emit('ticker', m);
        return;
      case 'candle':
        this.saw(`candles:${m.data.interval}`, m.symbol, m.sequence);
        this.emit('candle', m);
        return;
      case 'resume':
        // A server behind the last one joins trades live from where it is: skip those already got.
        if (m.data.reason === 'sequence_ahead' && (m.data.channel === 'trades' || m.data.channel === 'TRADE') && this.tradeIds.has(m.data.symbol)) {
          this.replayedTrades.set(m.data.symbol, this.tradeIds.get(m.data.symbol)!);
        }
        this.emit('resumed', m);
        return;
      case 'server_shutdown':
        this.shutdownHintMs = m.data.reconnect_after_ms;
        this.emit('shutdown', m);
        return;
      case 'heartbeat':
        this.emit('heartbeat', m);
        return;
      case 'subscribed':
        this.emit('subscribed', m);
        return;
      case 'error':
        this.emit('refused', m);
        return;
    }
  }

  /** After a book message: a verified one is announced; a failed one asks for a fresh snapshot of its stream. */
  private settle(channel: 'l2' | 'l3', symbol: string, result: ApplyResult, before: number, announce: () => void, extra: object): void {
    const stream = `${channel} ${symbol}`;
    if (result === 'ok') {
      this.resyncing.delete(stream);
      announce();
      return;
    }
    this.resyncs[result]++;
    this.resyncing.add(stream);
    // Straight to the socket, not into `requests`: after a reconnect every stream starts from a snapshot anyway.
    if (this.socket?.readyState === WebSocket.OPEN) this.send(this.socket, { type: 'subscribe', channels: [channel], symbols: [symbol], ...extra });
    this.emit('resync', { channel, symbol, reason: result, sequence: before });
  }
}
