import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import type { Outlet, Session, SessionTransport } from '../distribution/session';

export interface SessionData {
  session: Session;
  transport: UwsTransport;
  /** The address the connection limits count it against (connection-limits.ts). */
  client: string;
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

  constructor(private readonly failures: DeliveryFailures) {}

  send(data: Uint8Array | string, binary: boolean): void {
    const ws = this.ws;
    if (ws === null) {
      this.failures.count++;
      return;
    }
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

  constructor(
    private readonly app: TemplatedApp,
    prefix: string,
    streams: number,
  ) {
    for (let i = 0; i < streams; i++) this.topics.push(prefix + i);
  }

  add(session: Session, stream: number): void {
    (session.transport as UwsTransport).ws?.subscribe(this.topics[stream]);
  }

  remove(session: Session, stream: number, open: boolean): void {
    // A closed socket has already left every topic. uWS holds published messages per subscriber
    // until the socket's next send or the loop's end, and frees them when it leaves its last topic.
    if (open) (session.transport as UwsTransport).ws?.unsubscribe(this.topics[stream]);
  }

  publish(stream: number, payload: Uint8Array | string, binary: boolean): void {
    this.app.publish(this.topics[stream], payload, binary);
  }
}
