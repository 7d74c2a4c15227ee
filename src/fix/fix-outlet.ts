import type { Outlet, Session } from '../distribution/session';
import type { StreamTable } from '../distribution/streams';
import { decodeMessage } from '../wire/message-decoder';
import type { FixConnection } from './fix-connection';
import { MSG_MARKET_DATA_INCREMENTAL } from './fix-tags';
import type { FixRenderer } from './fix-render';

/** The FIX connection a hub session belongs to (FixTransport carries it). */
export interface FixSessionTransport {
  readonly connection: FixConnection;
}

function connectionOf(session: Session): FixConnection {
  return (session.transport as unknown as FixSessionTransport).connection;
}

/**
 * The SessionHub's outlet for FIX sessions: FIX has no topics, so it loops over the sessions on
 * a stream. An update is rendered to an X body once (an L2 update read in place, the rest
 * decoded), whatever the number of sessions; each session adds only its header (MsgSeqNum, SendingTime, TargetCompID, BodyLength,
 * CheckSum) and keeps the shared body for resends.
 */
export class FixOutlet implements Outlet {
  private readonly live: FixConnection[][] = [];

  constructor(
    private readonly streams: StreamTable,
    private readonly renderer: FixRenderer,
  ) {
    for (let i = 0; i < streams.count; i++) this.live.push([]);
  }

  add(session: Session, stream: number): void {
    const list = this.live[stream];
    const c = connectionOf(session);
    if (!list.includes(c)) list.push(c);
  }

  remove(session: Session, stream: number): void {
    const list = this.live[stream];
    const at = list.indexOf(connectionOf(session));
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.renderer.forget(stream);
  }

  publish(stream: number, payload: Uint8Array | string): void {
    const list = this.live[stream];
    if (list.length === 0 || typeof payload === 'string') return;
    const ins = this.renderer.instruments[this.streams.symbolOf(stream)];
    const update = this.renderer.l2Update(stream, payload, ins);
    if (update !== null) {
      for (let i = list.length - 1; i >= 0; i--) list[i].market.incremental(stream, MSG_MARKET_DATA_INCREMENTAL, update);
      return;
    }
    const m = decodeMessage(payload);
    if (m.type === 'l2_snapshot' || m.type === 'l3_snapshot') {
      // A book reset: every follower restarts from this snapshot, under its own MDReqID.
      for (let i = list.length - 1; i >= 0; i--) list[i].market.snapshot(stream, m, ins);
      return;
    }
    const body = this.renderer.incremental(m, ins);
    if (body === null) return;
    for (let i = list.length - 1; i >= 0; i--) list[i].market.incremental(stream, MSG_MARKET_DATA_INCREMENTAL, body);
  }
}
