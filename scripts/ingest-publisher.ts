import WebSocket from 'ws';
import * as flatbuffers from 'flatbuffers';
import { buildIngestBatch, IngestEventFields } from '../src/wire/ingest-batch';
import { EVENT_KIND_NAMES } from '../src/model/events';
import { EVENT_WORDS } from '../src/model/events';
import { ASK } from '../src/model/book-types';
import { formatUnits } from '../src/util/decimal';

/**
 * The publisher's side of /ingest, as a matching engine would run it: numbers its events 1, 2,
 * 3, … in its session, sends them in batches, keeps every event until bookcast acknowledges it
 * as durable, and after a reconnect resends from where bookcast says it stands. A window caps
 * the events in flight; an engine that fills it waits for acks (room() says how much is left).
 *
 * Several URLs (a primary and its standby): a connection that cannot be opened, or is refused
 * (NOT_PRIMARY from a standby, PRIMARY_FENCED from a primary that lost its lease), moves on to the
 * next URL; after a failover the new primary's welcome says how far it holds the session, and
 * everything after that is sent again. Its dedup by sequence makes the resend exactly-once.
 */

export interface PublisherSymbol {
  symbol: string;
  priceDecimals: number;
  sizeDecimals: number;
}

export interface PublisherOptions {
  /** ws://host:port/ingest, or several (a primary and its standby), tried in turn. */
  url: string | readonly string[];
  token: string;
  session: string;
  format: 'flatbuffers' | 'json';
  /** Every symbol the publisher names; events refer to them by index. */
  symbols: readonly PublisherSymbol[];
  /** Most events sent and not yet acknowledged. Default 100,000. */
  window?: number;
  /** Reconnect after an unexpected close, with backoff. Default true. */
  reconnect?: boolean;
  onAck?: (sequence: number) => void;
  onError?: (error: PublisherError) => void;
}

/** An error message from bookcast, or a failure of the connection. */
export interface PublisherError {
  code: string;
  message: string;
  expected_sequence?: number;
  event_index?: number;
}

interface Welcome {
  type: 'welcome';
  session: string;
  accepted_sequence: number;
  durable_sequence: number;
  max_batch_events: number;
  max_batch_bytes: number;
}

const DEFAULT_WINDOW = 100_000;
/** A failover takes about a lease time: the backoff stays well under it. */
const FIRST_BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 500;

export class IngestPublisher {
  /** Sequence of the last event pushed. */
  last = 0;
  /** Highest sequence bookcast acknowledged as durable. */
  acked = 0;
  /** Connections opened, the first included. */
  connections = 0;
  /** The URL connected to (or tried) last. */
  url: string;
  /** Event words of sequences acked+1 … last, in order (a queue over a growable array). */
  private words = new Float64Array(1024 * EVENT_WORDS);
  private start = 0;
  private end = 0;
  /** Highest sequence sent on the current connection. */
  private sent = 0;
  private maxBatchEvents = 1000;
  private ws: WebSocket | null = null;
  private open = false;
  private closing = false;
  private backoffMs = FIRST_BACKOFF_MS;
  private readonly urls: readonly string[];
  private urlIndex = 0;
  private readonly window: number;
  private readonly builder = new flatbuffers.Builder(64 * 1024);
  private readonly names: string[];

  constructor(private readonly options: PublisherOptions) {
    this.window = options.window ?? DEFAULT_WINDOW;
    this.urls = typeof options.url === 'string' ? [options.url] : options.url;
    this.url = this.urls[0];
    this.names = options.symbols.map((s) => s.symbol);
  }

  /** Connects and resolves with bookcast's welcome: where the session stands there. */
  connect(): Promise<Welcome> {
    this.closing = false;
    return new Promise((resolve, reject) => {
      this.url = this.urls[this.urlIndex];
      const url = `${this.url}?session=${encodeURIComponent(this.options.session)}`;
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${this.options.token}` } });
      this.ws = ws;
      let welcomed = false;
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          const error = (JSON.parse(body || '{}') as { error?: PublisherError }).error ?? { code: `HTTP_${res.statusCode}`, message: body };
          reject(Object.assign(new Error(`${error.code}: ${error.message}`), { code: error.code }));
        });
      });
      ws.on('error', (err) => {
        if (!welcomed) reject(err);
      });
      ws.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { type: string } & Record<string, unknown>;
        if (message.type === 'welcome') {
          welcomed = true;
          this.welcome(message as unknown as Welcome);
          resolve(message as unknown as Welcome);
        } else if (message.type === 'ack') this.ack(message.sequence as number);
        else if (message.type === 'error') this.options.onError?.(message as unknown as PublisherError);
      });
      ws.on('close', () => {
        this.open = false;
        this.ws = null;
        if (!this.closing && welcomed && this.options.reconnect !== false) this.reconnectLater();
      });
    });
  }

  /**
   * For an engine that keeps no events across runs: numbers its next event `sequence` + 1 (the
   * welcome's accepted_sequence, which bookcast holds). Only before anything is pushed.
   */
  continueFrom(sequence: number): void {
    if (this.end !== this.start) throw new Error('continueFrom: events are queued');
    this.last = this.acked = this.sent = sequence;
  }

  /** Events that may still be pushed before the window is full. */
  room(): number {
    return this.window - (this.last - this.acked);
  }

  /** Queues one event (symbol: index into the options' symbols); returns its sequence. Sent by flush(). */
  push(e: IngestEventFields): number {
    if (this.end + EVENT_WORDS > this.words.length) this.grow();
    const w = this.words;
    const o = this.end;
    w[o] = e.kind;
    w[o + 1] = e.symbol;
    w[o + 2] = e.side;
    w[o + 3] = e.orderId;
    w[o + 4] = e.newOrderId;
    w[o + 5] = e.price;
    w[o + 6] = e.size;
    w[o + 7] = e.timestamp;
    this.end += EVENT_WORDS;
    return ++this.last;
  }

  /** Sends every queued event not yet sent on this connection, in batches. */
  flush(): void {
    const ws = this.ws;
    if (ws === null || !this.open) return;
    while (this.sent < this.last) {
      const first = this.sent + 1;
      const count = Math.min(this.maxBatchEvents, this.last - this.sent);
      ws.send(this.encode(first, count));
      this.sent += count;
    }
  }

  /** Closes the connection; queued events stay for a later connect(). */
  close(): Promise<void> {
    this.closing = true;
    const ws = this.ws;
    if (ws === null) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      ws.close();
    });
  }

  private welcome(w: Welcome): void {
    this.maxBatchEvents = w.max_batch_events;
    this.backoffMs = FIRST_BACKOFF_MS;
    this.connections++;
    if (w.accepted_sequence < this.acked) {
      this.options.onError?.({ code: 'ACKED_EVENTS_LOST', message: `bookcast acknowledged ${this.acked} but now stands at ${w.accepted_sequence}` });
    }
    this.ack(w.durable_sequence);
    // bookcast holds everything up to accepted_sequence; anything it dropped before making it
    // durable (a crash) shows as a lower accepted_sequence, and is sent again from here.
    this.sent = Math.max(this.acked, Math.min(w.accepted_sequence, this.last));
    this.open = true;
    this.flush();
  }

  private ack(sequence: number): void {
    if (sequence <= this.acked) return;
    const drop = Math.min(sequence, this.last) - this.acked;
    this.start += drop * EVENT_WORDS;
    this.acked = sequence;
    if (this.start === this.end) this.start = this.end = 0;
    this.options.onAck?.(sequence);
  }

  /** The same URL first (a restart); on failure the next one at once, and the backoff grows only after every URL failed. */
  private reconnectLater(delay = this.backoffMs): void {
    setTimeout(() => {
      if (this.closing) return;
      this.connect().catch(() => {
        this.urlIndex = (this.urlIndex + 1) % this.urls.length;
        if (this.urlIndex !== 0) return this.reconnectLater(0);
        this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
        this.reconnectLater();
      });
    }, delay).unref();
  }

  /** Makes room at the end: compacts acknowledged space away, or doubles. */
  private grow(): void {
    const live = this.end - this.start;
    if (live * 2 <= this.words.length) this.words.copyWithin(0, this.start, this.end);
    else {
      const bigger = new Float64Array(this.words.length * 2);
      bigger.set(this.words.subarray(this.start, this.end));
      this.words = bigger;
    }
    this.start = 0;
    this.end = live;
  }

  /** Events first … first+count-1 as one batch frame. */
  private encode(first: number, count: number): Uint8Array | string {
    const w = this.words;
    const base = this.start + (first - this.acked - 1) * EVENT_WORDS;
    if (this.options.format === 'json') {
      const events = [];
      for (let i = 0; i < count; i++) {
        const o = base + i * EVENT_WORDS;
        const kind = w[o];
        const s = this.options.symbols[w[o + 1]];
        const event: Record<string, unknown> = { kind: EVENT_KIND_NAMES[kind], symbol: s.symbol };
        if (kind === 1 || kind === 7) event.side = w[o + 2] === ASK ? 'sell' : 'buy';
        if (w[o + 3] !== 0) event.order_id = w[o + 3];
        if (w[o + 4] !== 0) event.new_order_id = w[o + 4];
        if (w[o + 5] !== 0) event.price = formatUnits(w[o + 5], s.priceDecimals);
        if (w[o + 6] !== 0) event.size = formatUnits(w[o + 6], s.sizeDecimals);
        if (w[o + 7] !== 0) event.timestamp = w[o + 7];
        events.push(event);
      }
      return JSON.stringify({ first_sequence: first, events });
    }
    const events: IngestEventFields[] = [];
    for (let i = 0; i < count; i++) {
      const o = base + i * EVENT_WORDS;
      events.push({ kind: w[o], symbol: w[o + 1], side: w[o + 2], orderId: w[o + 3], newOrderId: w[o + 4], price: w[o + 5], size: w[o + 6], timestamp: w[o + 7] });
    }
    return buildIngestBatch(this.builder, first, this.names, events);
  }
}
