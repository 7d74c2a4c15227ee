import { type Config, isReplay } from '../config';
import { REJECT_NAMES } from '../model/book-types';
import type { Instrument } from '../model/instruments';
import { FEED_CONNECTED, FEED_CONNECTS, FEED_FRAMES, FEED_MALFORMED, FQ_NAMES, FQ_SYNCED, feedWord } from '../model/feed-words';
import { readVenueTicker } from '../model/venue-tickers';
import { SRC_DONE, SRC_EMITTED, SRC_RESTORED, SRC_RESTORE_MS, SRC_WAITS } from '../model/source-words';
import type { WorkerPool } from '../engine/worker-pool';
import { S_ACCEPTED, S_BATCHES, S_OUT_WAITS, S_REJECTED } from '../engine/worker-protocol';
import type { Persistence } from '../store/persistence';
import type { SessionHub } from '../distribution/session-hub';
import type { IngestGateway } from '../gateway/ingest-gateway';
import type { UpgradeGuard } from '../gateway/upgrade-guard';
import type { AcceptGate } from '../gateway/accept-gate';
import type { HeavyWork } from '../gateway/heavy-work';
import type { ClientSlots } from '../gateway/client-slots';
import type { RateLimiter } from '../limits/rate-limiter';
import type { UsageBatcher } from '../accounting/usage-batcher';
import type { BookAtAnswer, BookAtRequest } from '../gateway/book-at-task';

/** The parts /api/v1/health reads; each keeps its own counters, this only assembles them. */
export interface HealthParts {
  config: Config;
  instruments: readonly Instrument[];
  startedAt: number;
  sourceStats: Float64Array;
  /** A primary's replication publisher or an edge's follower position (src/edge/), when there is one. */
  replication?: (() => Record<string, unknown>) | null;
  /** The feed's connection and data-quality words (feed and capture sources), model/feed-words.ts. */
  feedStats?: Float64Array;
  pool: WorkerPool;
  persistence: Persistence;
  ingest: IngestGateway;
  hub: SessionHub;
  guard: UpgradeGuard;
  gate: AcceptGate;
  heavyWork: HeavyWork<BookAtRequest, BookAtAnswer>;
  heavySlots: ClientSlots;
  limiter: RateLimiter;
  usage: UsageBatcher | null;
}

/**
 * A feed's connection and, per symbol, its data-quality figures (model/feed-words.ts) and the
 * venue's own latest ticker where the venue sends one (Kraken; null otherwise and until the first).
 */
function feedHealth(config: Config, instruments: readonly Instrument[], words: Float64Array): object {
  const source = config.source;
  return {
    venue: source.kind === 'feed' ? source.venue : null,
    capture: source.kind === 'capture' ? source.path : null,
    connected: words[FEED_CONNECTED] === 1,
    connects: words[FEED_CONNECTS],
    frames: words[FEED_FRAMES],
    malformed_frames: words[FEED_MALFORMED],
    symbols: Object.fromEntries(
      instruments.map((i) => [i.symbol, {
        ...Object.fromEntries(FQ_NAMES.map((name, word) => [name, word === FQ_SYNCED ? words[feedWord(i.index, word)] === 1 : words[feedWord(i.index, word)]])),
        venue_ticker: readVenueTicker(words, i.index),
      }]),
    ),
  };
}

/** What anyone may see; the rest only where showsHealthDetails allows (gateway/health-access.ts). */
export function publicHealthReport(startedAt: number): () => object {
  return () => ({ status: 'ok', uptime_s: Math.round((Date.now() - startedAt) / 1000) });
}

/** The body of /api/v1/health, read fresh from every part's shared counters at each call. */
export function healthReport(parts: HealthParts): () => object {
  const { config, instruments, startedAt, sourceStats, feedStats, pool, persistence, ingest, hub, guard, gate, heavyWork, heavySlots, limiter, usage } = parts;
  const publicHealth = publicHealthReport(startedAt);
  return () => {
    // Read before the source's count: the source counts an event before any book can see it, so
    // within one report no worker's accepted events pass the source's.
    const workers = pool.channels.map((c, index) => ({
      index,
      symbols: instruments.filter((i) => pool.ownerOf[i.index] === index).map((i) => i.symbol),
      accepted: c.stats[S_ACCEPTED],
      rejected: Object.fromEntries(REJECT_NAMES.map((name, code) => [name, c.stats[S_REJECTED + code]]).filter(([, n]) => n !== 0 && n !== undefined)),
      batches: c.stats[S_BATCHES],
      out_waits: c.stats[S_OUT_WAITS],
    }));
    return {
      ...publicHealth(),
      source: {
        kind: config.source.kind,
        replay: isReplay(config.source),
        events: sourceStats[SRC_EMITTED],
        restored_from_journal: sourceStats[SRC_RESTORED],
        restore_ms: sourceStats[SRC_RESTORE_MS],
        waits: sourceStats[SRC_WAITS],
        done: sourceStats[SRC_DONE] === 1,
      },
      workers,
      persistence: persistence.health(),
      checkpoints: pool.checkpoints?.health() ?? null,
      ...(config.source.kind === 'ingest' || config.source.kind === 'standby' ? { ingest: ingest.health() } : {}),
      ...(parts.replication ? { replication: parts.replication() } : {}),
      ...(feedStats !== undefined ? { feed: feedHealth(config, instruments, feedStats) } : {}),
      connections: hub.sessions.size,
      connection_limits: { ...guard.health(), accept_pauses: gate.pauses },
      slow_consumer_resyncs: hub.slowConsumerResyncs,
      slow_consumer_closes: hub.slowConsumerCloses,
      published: hub.published,
      heavy_requests: { running: heavyWork.active, queued: heavyWork.queued, ...heavyWork.counts, refused_client_all_kinds: heavySlots.refused },
      rate_limits: limiter.health(),
      usage_accounting: usage === null ? null : usage.health(),
    };
  };
}
