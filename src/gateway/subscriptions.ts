import type { TemplatedApp } from 'uWebSockets.js';
import type { WorkerPool } from '../engine/worker-pool';
import { Session, Subscription, SUB_LIVE, SUB_PENDING, SUB_RESYNC } from './session';
import type { Conflator } from './conflator';
import { FORMAT_BINARY, FORMATS, StreamTable } from './streams';
import { STREAM_TRADES } from '../model/streams';

/** A snapshot in each format, rendered at most once however many connections wait for it. */
export interface SnapshotSource {
  payload(format: number): Uint8Array | string;
}

/**
 * The subscription core: who follows which stream, in which format, and in which state.
 *
 * Joining a stream is ordered through the owner: the connection waits (PENDING) while a snapshot
 * request travels the control ring; the snapshot comes back through the out-ring in sequence
 * order with the diffs, and at that point — on this thread, between two publishes — the
 * connection gets the snapshot and joins the topic. Every diff after the snapshot therefore
 * reaches it, and none before. A trades subscription needs no snapshot and goes live at once.
 *
 * A stream's owner only produces it while someone follows or waits for it. A stream is
 * deactivated only when no snapshot request is in flight; otherwise the deactivation waits for
 * the answer, so a deactivation can never overtake a request that a newcomer relies on.
 */
export class Subscriptions {
  constructor(
    private readonly app: TemplatedApp,
    private readonly streams: StreamTable,
    private readonly pool: WorkerPool,
    private readonly conflator: Conflator,
  ) {}

  count(session: Session): number {
    return session.subscriptions.size;
  }

  /** `throttleMs` > 0 conflates the stream (ticker and candles only; see Conflator). */
  subscribe(session: Session, stream: number, throttleMs: number): void {
    if (session.subscriptions.has(stream)) return;
    const sub = new Subscription();
    sub.throttleMs = throttleMs;
    session.subscriptions.set(stream, sub);
    if (session.resyncing) {
      sub.state = SUB_RESYNC;
      return;
    }
    this.join(session, stream, sub);
  }

  unsubscribe(session: Session, stream: number): void {
    const sub = session.subscriptions.get(stream);
    if (sub === undefined) return;
    session.subscriptions.delete(stream);
    this.leave(session, stream, sub, true);
  }

  /** The connection is gone; uWS has already removed it from every topic. */
  close(session: Session): void {
    session.closed = true;
    for (const [stream, sub] of session.subscriptions) this.leave(session, stream, sub, false);
    session.subscriptions.clear();
  }

  /** Stops sending to a connection that fell behind; its streams restart from snapshots later. */
  suspend(session: Session): void {
    session.resyncing = true;
    for (const [stream, sub] of session.subscriptions) {
      this.leave(session, stream, sub, true);
      sub.state = SUB_RESYNC;
    }
  }

  /** The connection drained: every suspended subscription asks for a fresh snapshot. */
  resume(session: Session): void {
    session.resyncing = false;
    for (const [stream, sub] of session.subscriptions) {
      if (sub.state === SUB_RESYNC) this.join(session, stream, sub);
    }
  }

  /** A snapshot arrived from the owner (fan-out thread, in out-ring order). */
  snapshot(stream: number, sequence: number, snapshot: SnapshotSource, broadcast: boolean): void {
    const streams = this.streams;
    if (broadcast) {
      // A book reset: everyone already on the topic restarts from this snapshot.
      for (let format = 0; format < FORMATS; format++) {
        if (streams.subscribers[format][stream] > 0) {
          this.app.publish(streams.topics[format][stream], snapshot.payload(format), format === FORMAT_BINARY);
        }
      }
    } else {
      streams.snapshotInFlight[stream] = 0;
    }
    if (sequence > streams.lastSequence[stream]) streams.lastSequence[stream] = sequence;
    const waiting = streams.pending[stream];
    if (waiting.length > 0) {
      for (let i = 0; i < waiting.length; i++) {
        const session = waiting[i];
        const sub = session.subscriptions.get(stream);
        const ws = session.ws;
        if (session.closed || ws === null || sub === undefined || sub.state !== SUB_PENDING) continue;
        sub.state = SUB_LIVE;
        sub.snapshotSequence = sequence;
        const format = session.format;
        ws.cork(() => ws.send(snapshot.payload(format), format === FORMAT_BINARY));
        if (sub.throttleMs > 0) {
          sub.sentAt = Date.now();
          this.conflator.add(session, stream, sub);
        } else {
          ws.subscribe(streams.topics[format][stream]);
          streams.subscribers[format][stream]++;
        }
      }
      waiting.length = 0;
    }
    if (!broadcast) this.deactivateIfIdle(stream);
  }

  private join(session: Session, stream: number, sub: Subscription): void {
    const streams = this.streams;
    if (streams.streamOf(stream) === STREAM_TRADES) {
      sub.state = SUB_LIVE;
      session.ws!.subscribe(streams.topics[session.format][stream]);
      streams.subscribers[session.format][stream]++;
      return;
    }
    sub.state = SUB_PENDING;
    streams.pending[stream].push(session);
    if (streams.snapshotInFlight[stream] === 0) {
      streams.snapshotInFlight[stream] = 1;
      streams.active[stream] = 1;
      this.pool.requestSnapshot(streams.symbolOf(stream), streams.streamOf(stream));
    }
  }

  private leave(session: Session, stream: number, sub: Subscription, wsOpen: boolean): void {
    const streams = this.streams;
    if (sub.state === SUB_LIVE && sub.throttleMs > 0) {
      this.conflator.remove(session, stream);
    } else if (sub.state === SUB_LIVE) {
      if (wsOpen && session.ws !== null) session.ws.unsubscribe(streams.topics[session.format][stream]);
      streams.subscribers[session.format][stream]--;
    } else if (sub.state === SUB_PENDING) {
      const waiting = streams.pending[stream];
      const at = waiting.indexOf(session);
      if (at >= 0) waiting.splice(at, 1);
    }
    this.deactivateIfIdle(stream);
  }

  private deactivateIfIdle(stream: number): void {
    const streams = this.streams;
    if (streams.active[stream] === 0 || streams.snapshotInFlight[stream] === 1 || !streams.idle(stream)) return;
    streams.active[stream] = 0;
    this.pool.deactivate(streams.symbolOf(stream), streams.streamOf(stream));
  }
}
