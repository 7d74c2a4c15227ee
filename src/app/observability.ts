import type { TemplatedApp } from 'uWebSockets.js';
import type { Config } from '../config';
import type { Instrument } from '../model/instruments';
import { MIRROR_DEPTH } from '../model/depths';
import { BookMirrorReader } from '../engine/book-mirror';
import type { WorkerPool } from '../engine/worker-pool';
import type { Persistence } from '../store/persistence';
import type { SessionHub } from '../distribution/session-hub';
import { observeRequests } from '../gateway/http';
import type { IngestGateway } from '../gateway/ingest-gateway';
import type { WsGateway } from '../gateway/ws-gateway';
import type { FixAcceptor } from '../fix/fix-acceptor';
import { DeliveryLatency } from '../metrics/delivery-latency';
import { LatencyWindow } from '../metrics/latency-window';
import { SharedLatencyWindow } from '../ring/shared-latency';
import { registerMetricsRoute } from '../metrics/metrics-route';
import { QueueDepths } from '../metrics/queue-depths';
import { InputQuality, ServerMetrics } from '../metrics/server-metrics';
import { FQ_CHECKSUM, FQ_GAPS, feedWord } from '../model/feed-words';
import { storageSpace } from '../metrics/storage-space';
import { AlertEvaluator } from '../alerts/alert-evaluator';
import { registerAlertsRoute } from '../alerts/alerts-route';

export interface ObservedParts {
  config: Config;
  instruments: readonly Instrument[];
  sourceStats: Float64Array;
  pool: WorkerPool;
  persistence: Persistence;
  hub: SessionHub;
  ws: WsGateway;
  /** The FIX acceptor, when --fix-port is set: its refusals are counted with the others. */
  fix: FixAcceptor | null;
  ingest: IngestGateway;
  ingestRing: SharedArrayBuffer | null;
  heavyQueued: () => number;
  /** An external feed's data-quality words (model/feed-words.ts), when the source is one. */
  feedStats?: Float64Array;
}

export interface Observability {
  metrics: ServerMetrics;
  alerts: AlertEvaluator;
  /** Evaluates the alerts from now on (call before the server listens: the first sample is the baseline). */
  start(): void;
  stop(): void;
}

/**
 * Metrics and alerts: the latency recorder on the hub, the registry behind /metrics, the alert
 * evaluator behind /api/v1/alerts, and the REST observer. Call before any REST route is
 * registered (routes report to the observer they find at registration).
 */
export function buildObservability(app: TemplatedApp, parts: ObservedParts): Observability {
  const { config, pool, hub, ws } = parts;
  // A replay at original time stamps its events in the past: event-to-send would time the recording.
  const source = config.source;
  const wallClockEvents = !((source.kind === 'lobster' || source.kind === 'journal') && source.originalTime);
  const latency = wallClockEvents ? new DeliveryLatency() : null;
  if (latency !== null) hub.observer = latency;
  const applyLatency = wallClockEvents ? new SharedLatencyWindow(pool.channels.map((c) => c.applyLatency)) : null;
  const persistenceHealth = () => parts.persistence.health();
  const queues = new QueueDepths({
    rings: pool.channels.map((c) => ({ event: c.eventRing, out: c.out.bytes.buffer as SharedArrayBuffer, control: c.control.bytes.buffer as SharedArrayBuffer, persist: c.persistRing })),
    ingestRing: parts.ingestRing,
    sessions: hub.sessions,
    spoolRows: () => (persistenceHealth() as { spool_rows: number }).spool_rows,
    orderEventsBehind: () => (persistenceHealth() as { order_events: { behind: number } | null }).order_events?.behind ?? null,
    ingestQueued: () => (source.kind === 'ingest' ? (parts.ingest.health().queued_events as number) : 0),
    heavyQueued: parts.heavyQueued,
  });
  const metrics = new ServerMetrics({
    instruments: parts.instruments,
    workerStats: pool.channels.map((c) => c.stats),
    sourceStats: parts.sourceStats,
    persistenceHealth,
    hub,
    ws,
    fixRefusals: parts.fix?.refusals ?? null,
    queues,
    mirror: new BookMirrorReader(pool.mirror, parts.instruments.length, MIRROR_DEPTH),
    dataDir: config.dataDir,
    latency,
    applyLatency,
    inputQuality: parts.feedStats === undefined ? null : feedQuality(parts.feedStats),
  });
  observeRequests(app, metrics);
  const alerts = new AlertEvaluator(
    {
      latencyP99Us: () => (latency === null ? null : latency.window.quantiles(-1).p99),
      deepestQueue: () => queues.deepest(),
      upgrades: () => ({ requests: ws.upgradeRequests, refused: ws.upgradeRequests - ws.upgrades }),
      storage: () => storageSpace(config.dataDir),
    },
    config.metrics,
  );
  registerMetricsRoute(app, metrics);
  registerAlertsRoute(app, alerts);
  let rotation: NodeJS.Timeout | null = null;
  return {
    metrics,
    alerts,
    start() {
      if (latency !== null) {
        rotation = setInterval(() => {
          latency.window.rotate();
          applyLatency?.rotate();
        }, LatencyWindow.rotateEveryMs(config.metrics.windowMs));
      }
      alerts.start();
    },
    stop() {
      if (rotation !== null) clearInterval(rotation);
      alerts.stop();
    },
  };
}

/** Gaps and checksum mismatches an external feed saw on input, per symbol (the adapter counts them). */
function feedQuality(words: Float64Array): InputQuality {
  return {
    sequenceGaps: (instrument) => words[feedWord(instrument, FQ_GAPS)],
    checksumFailures: (instrument) => words[feedWord(instrument, FQ_CHECKSUM)],
  };
}
