import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import type { Outlet, Session, SessionTransport } from '../distribution/session';

export interface SessionData {
  session: Session;
  transport: UwsTransport;
  /** The address the connection limits count it against (connection-limits.ts). */
  client: string;
  /** For its usage row (accounting): when the upgrade was answered (performance.now()), and its User-Agent. */
  openedAt: number;
  userAgent: string;
}

/** What ws.send answers when uWS discarded the message (past its own backpressure limit). */
const SEND_DROPPED = 2;

/** Direct sends (snapshots, replies, heartbeats) that never reached a socket: gone, or dropped by uWS (metrics). */
export class DeliveryFailures {
  count = 0;
}

/** A uWS WebSocket as a session transport. The socket arrives at `open`, after the upgrade made the session. */
export class UwsTransport implements SessionTransport {
  ws: WebSocket<SessionData> | null = null;
  /**
   * Bytes of the messages this connection was sent (direct sends, and its share of what its
   * topics published while it followed them, settled when it leaves a topic) and received, for
   * its usage row. Strings count their length: every frame bookcast sends is ASCII JSON.
   */
  sentBytes = 0;
  receivedBytes = 0;
  /** Stream → its topic's published-bytes count when this connection joined it (UwsTopics). */
  readonly joinedAt = new Map<number, number>();

  constructor(private readonly failures: DeliveryFailures) {}

  send(data: Uint8Array | string, binary: boolean): void {
    const ws = this.ws;
    if (ws === null) {
      this.failures.count++;
      return;
    }
    this.sentBytes += typeof data === 'string' ? data.length : data.byteLength;
    ws.cork(() => {
      if (ws.send(data, binary) === SEND_DROPPED) this.failures.count++;
    });
  }

  bufferedAmount(): number {
    return this.ws === null ? 0 : this.ws.getBufferedAmount();
  }

  close(code: number, reason: string): void {
    this.ws?.end(code, reason);
  }
}

/**
 * Live WebSocket subscribers of one format: a uWS topic per stream ("<prefix><stream>"), so a
 * message is handed to uWS once and copied into its topic tree once, whatever the subscriber count.
 */
export class UwsTopics implements Outlet {
  private readonly topics: string[] = [];
  /**
   * Bytes published per topic since start: a connection's share is the difference between its
   * join and its leave (every message published on a topic reaches every subscriber), so usage
   * accounting costs one addition per publish, not one per delivery.
   */
  private readonly publishedBytes: Float64Array;

  constructor(
    private readonly app: TemplatedApp,
    prefix: string,
    streams: number,
  ) {
    for (let i = 0; i < streams; i++) this.topics.push(prefix + i);
    this.publishedBytes = new Float64Array(streams);
  }

  add(session: Session, stream: number): void {
    const transport = session.transport as UwsTransport;
    transport.joinedAt.set(stream, this.publishedBytes[stream]);
    transport.ws?.subscribe(this.topics[stream]);
  }

  remove(session: Session, stream: number, open: boolean): void {
    const transport = session.transport as UwsTransport;
    const joined = transport.joinedAt.get(stream);
    if (joined !== undefined) {
      transport.sentBytes += this.publishedBytes[stream] - joined;
      transport.joinedAt.delete(stream);
    }
    // A closed socket has already left every topic. uWS holds published messages per subscriber
    // until the socket's next send or the loop's end, and frees them when it leaves its last topic.
    if (open) transport.ws?.unsubscribe(this.topics[stream]);
  }

  publish(stream: number, payload: Uint8Array | string, binary: boolean): void {
    this.publishedBytes[stream] += typeof payload === 'string' ? payload.length : payload.byteLength;
    this.app.publish(this.topics[stream], payload, binary);
  }
}
