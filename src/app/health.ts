import { type Config, isReplay } from '../config';
import { REJECT_NAMES } from '../model/book-types';
import type { Instrument } from '../model/instruments';
import { SRC_DONE, SRC_EMITTED, SRC_RESTORED, SRC_RESTORE_MS, SRC_WAITS } from '../model/source-words';
import type { WorkerPool } from '../engine/worker-pool';
import { S_ACCEPTED, S_BATCHES, S_OUT_WAITS, S_REJECTED } from '../engine/worker-protocol';
import type { Persistence } from '../store/persistence';
import type { Fanout } from '../gateway/fanout';
import type { IngestGateway } from '../gateway/ingest-gateway';
import type { WsGateway } from '../gateway/ws-gateway';

/** The parts /api/v1/health reads; each keeps its own counters, this only assembles them. */
export interface HealthParts {
  config: Config;
  instruments: readonly Instrument[];
  startedAt: number;
  sourceStats: Float64Array;
  pool: WorkerPool;
  persistence: Persistence;
  ingest: IngestGateway;
  ws: WsGateway;
  fanout: Fanout;
}

/** The body of /api/v1/health, read fresh from every part's shared counters at each call. */
export function healthReport(parts: HealthParts): () => object {
  const { config, instruments, startedAt, sourceStats, pool, persistence, ingest, ws, fanout } = parts;
  return () => ({
    status: 'ok',
    uptime_s: Math.round((Date.now() - startedAt) / 1000),
    source: {
      kind: config.source.kind,
      replay: isReplay(config.source),
      events: sourceStats[SRC_EMITTED],
      restored_from_journal: sourceStats[SRC_RESTORED],
      restore_ms: sourceStats[SRC_RESTORE_MS],
      waits: sourceStats[SRC_WAITS],
      done: sourceStats[SRC_DONE] === 1,
    },
    workers: pool.channels.map((c, index) => ({
      index,
      symbols: instruments.filter((i) => pool.ownerOf[i.index] === index).map((i) => i.symbol),
      accepted: c.stats[S_ACCEPTED],
      rejected: Object.fromEntries(REJECT_NAMES.map((name, code) => [name, c.stats[S_REJECTED + code]]).filter(([, n]) => n !== 0 && n !== undefined).slice(0)),
      batches: c.stats[S_BATCHES],
      out_waits: c.stats[S_OUT_WAITS],
    })),
    persistence: persistence.health(),
    checkpoints: pool.checkpoints?.health() ?? null,
    ...(config.source.kind === 'ingest' ? { ingest: ingest.health() } : {}),
    connections: ws.sessions.size,
    slow_consumer_resyncs: ws.slowConsumerResyncs,
    published: fanout.published,
  });
}
