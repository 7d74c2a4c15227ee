import type { Session } from '../distribution/session';
import { RingOccupancy } from './ring-occupancy';

/** One queue's depth, in its own unit: bytes for connection buffers, items otherwise. */
export interface QueueDepth {
  queue: string;
  unit: 'bytes' | 'rows' | 'events' | 'requests';
  depth: number;
}

/** One ring's occupancy: which ring, of which book worker ('' for the process's own). */
export interface RingUse {
  ring: string;
  worker: string;
  usedBytes: number;
  capacityBytes: number;
}

/** The counters QueueDepths reads besides the rings; each part keeps its own. */
export interface QueueSources {
  /** Every book worker's rings, by worker index. */
  rings: { event: SharedArrayBuffer; out: SharedArrayBuffer; control: SharedArrayBuffer; persist: SharedArrayBuffer }[];
  /** /ingest's ring to the source thread (--source ingest), or null. */
  ingestRing: SharedArrayBuffer | null;
  sessions: ReadonlySet<Session>;
  /** Rows the persistence worker holds (memory and disk spool) not yet written. */
  spoolRows(): number;
  /** Journaled events not yet in order_events (--store-events), or null. */
  orderEventsBehind(): number | null;
  /** Accepted /ingest events not yet handed to the source thread. */
  ingestQueued(): number;
  /** Heavy requests waiting for the heavy-work thread. */
  heavyQueued(): number;
}

/**
 * Every queue between a source and a client, read at scrape or alert time.
 *
 * Queues that grow with a backlog (QueueDepthHigh looks at these): the deepest connection send
 * buffer (uWS's count of bytes a client has not taken: a stalled reader shows here first), the
 * persistence spool, the order_events backlog, /ingest's accepted-not-yet-handed events and the
 * heavy-request queue.
 *
 * The rings are separate: they are bounded (a full ring makes its producer wait, counted in
 * bookcast_ring_full_waits_total), their occupancy is in bytes, and a few kilobytes in one is
 * the normal state of a busy feed, not a backlog.
 */
export class QueueDepths {
  private readonly rings: { worker: string; ring: string; occupancy: RingOccupancy }[] = [];

  constructor(private readonly sources: QueueSources) {
    sources.rings.forEach((r, worker) => {
      for (const [ring, sab] of [['event', r.event], ['out', r.out], ['control', r.control], ['persist', r.persist]] as const) {
        this.rings.push({ worker: String(worker), ring, occupancy: new RingOccupancy(sab) });
      }
    });
    if (sources.ingestRing !== null) this.rings.push({ worker: '', ring: 'ingest', occupancy: new RingOccupancy(sources.ingestRing) });
  }

  read(): QueueDepth[] {
    const s = this.sources;
    let deepestConnection = 0;
    for (const session of s.sessions) deepestConnection = Math.max(deepestConnection, session.transport.bufferedAmount());
    const depths: QueueDepth[] = [
      { queue: 'connection_send_buffer', unit: 'bytes', depth: deepestConnection },
      { queue: 'persistence_spool', unit: 'rows', depth: s.spoolRows() },
    ];
    const behind = s.orderEventsBehind();
    if (behind !== null) depths.push({ queue: 'order_events_backlog', unit: 'events', depth: behind });
    depths.push({ queue: 'ingest_pending', unit: 'events', depth: s.ingestQueued() });
    depths.push({ queue: 'heavy_requests', unit: 'requests', depth: s.heavyQueued() });
    return depths;
  }

  ringUse(): RingUse[] {
    return this.rings.map((r) => ({ ring: r.ring, worker: r.worker, usedBytes: r.occupancy.usedBytes(), capacityBytes: r.occupancy.capacity }));
  }

  /** The deepest queue now (QueueDepthHigh). */
  deepest(): QueueDepth {
    return this.read().reduce((a, b) => (b.depth > a.depth ? b : a));
  }
}
