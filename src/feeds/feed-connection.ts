import WebSocket from 'ws';
import { nowMicros } from '../util/clock';
import { Backoff } from './backoff';
import { CAPTURE_CLOSE, CAPTURE_FRAME, CAPTURE_OPEN, CAPTURE_REST, CAPTURE_SENT, CaptureWriter } from './capture-file';
import type { FeedQuality } from './feed-quality';
import type { FeedLink, VenueAdapter } from './venue-adapter';

/**
 * Largest frame taken from a venue. Coinbase's level2 snapshot is the whole book, tens of
 * thousands of levels in one frame of several MB; 64 MiB leaves room and still bounds memory.
 */
export const FEED_MAX_PAYLOAD = 64 * 1024 * 1024;
/** No frame for this long (venues send heartbeats every few seconds): the connection is dead. */
const STALE_MS = 30_000;

export interface FeedConnectionOptions {
  /** The venue's WebSocket base URL (the adapter may add streams to it). */
  url: string;
  /** The venue's REST base URL, for snapshots. */
  restUrl: string;
  quality: FeedQuality;
  /** Every frame and REST answer also goes here (bookcast record). */
  recorder: CaptureWriter | null;
  /** After each frame or REST answer the adapter handled: make its events visible. */
  afterInput: () => void;
  backoff?: Backoff;
}

/**
 * A live connection to a venue: one WebSocket (the `ws` client; Node 20 has no stable global
 * WebSocket), REST GETs through fetch, reconnects after a jittered exponential backoff. The
 * backoff resets once a connection has stayed up for a minute, so a venue that accepts and drops
 * every connection at once keeps the delay growing.
 */
export class FeedConnection implements FeedLink {
  private socket: WebSocket | null = null;
  private adapter!: VenueAdapter;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private lastFrameAt = 0;
  private openedAt = 0;
  private readonly backoff: Backoff;

  constructor(private readonly options: FeedConnectionOptions) {
    this.backoff = options.backoff ?? new Backoff();
  }

  start(adapter: VenueAdapter): void {
    this.adapter = adapter;
    this.open();
    this.watchdog = setInterval(() => {
      if (this.socket !== null && this.socket.readyState === WebSocket.OPEN && Date.now() - this.lastFrameAt > STALE_MS) {
        this.reconnect(`no frame for ${STALE_MS} ms`);
      }
    }, 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry !== null) clearTimeout(this.retry);
    if (this.watchdog !== null) clearInterval(this.watchdog);
    const socket = this.socket;
    this.socket = null;
    if (socket !== null && socket.readyState !== WebSocket.CLOSED) {
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.terminate();
      await closed;
    }
  }

  send(text: string): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return; // the next open subscribes again
    this.socket.send(text);
    this.options.recorder?.write(CAPTURE_SENT, text, nowMicros());
  }

  fetch(path: string): void {
    const socket = this.socket;
    void fetch(this.options.restUrl.replace(/\/+$/, '') + path).then(
      async (res) => ({ status: res.status, body: await res.text() }),
      (error: Error) => ({ status: 0, body: String(error.message) }),
    ).then(({ status, body }) => {
      // An answer to a request made on a connection since replaced is of no use to the new one.
      if (this.stopped || socket !== this.socket) return;
      const receivedUs = nowMicros();
      this.options.recorder?.write(CAPTURE_REST, JSON.stringify({ path, status, body }), receivedUs);
      this.adapter.onRest(path, status, body, receivedUs);
      this.options.afterInput();
    });
  }

  reconnect(reason: string): void {
    const socket = this.socket;
    if (socket === null) return;
    this.options.quality.note('FEED_RECONNECT', reason);
    socket.terminate(); // 'close' schedules the next attempt
  }

  private open(): void {
    if (this.stopped) return;
    const url = this.adapter.socketUrl(this.options.url);
    const socket = new WebSocket(url, { maxPayload: FEED_MAX_PAYLOAD, handshakeTimeout: 10_000 });
    this.socket = socket;
    socket.on('open', () => {
      if (socket !== this.socket) return;
      const now = nowMicros();
      this.openedAt = Date.now();
      this.lastFrameAt = Date.now();
      this.options.recorder?.write(CAPTURE_OPEN, url, now);
      this.options.quality.connected(true);
      this.adapter.onOpen(now);
      this.options.afterInput();
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (socket !== this.socket) return;
      const receivedUs = nowMicros();
      this.lastFrameAt = Date.now();
      const text = isBinary ? '' : data.toString('utf8');
      this.options.recorder?.write(CAPTURE_FRAME, text, receivedUs);
      this.options.quality.frame();
      if (isBinary) this.options.quality.malformedFrame('a binary frame (venues send JSON text)');
      else this.adapter.onFrame(text, receivedUs);
      this.options.afterInput();
    });
    socket.on('error', (error: Error) => {
      this.options.quality.note('FEED_CONNECT_FAILED', `${url}: ${error.message}`);
    });
    socket.on('close', (code: number) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.options.quality.connected(false);
      this.options.recorder?.write(CAPTURE_CLOSE, `code ${code}`, nowMicros());
      this.adapter.onClose();
      if (this.stopped) return;
      if (this.openedAt > 0 && Date.now() - this.openedAt > 60_000) this.backoff.reset();
      this.openedAt = 0;
      this.retry = setTimeout(() => {
        this.retry = null;
        this.open();
      }, this.backoff.next());
    });
  }
}
