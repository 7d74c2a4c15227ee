import type { MetricsConfig } from '../config';
import type { QueueDepth } from '../metrics/queue-depths';
import type { StorageSpace } from '../metrics/storage-space';
import { log } from '../util/log';
import { formatTimestampMicros } from '../wire/timestamp';
import { AlertRule } from './alert-rule';

/** What the four alerts measure, read at each evaluation from the parts' own counters. */
export interface AlertInputs {
  /** Event-to-send p99 over the metrics window, all channels (µs), or null without messages. */
  latencyP99Us(): number | null;
  deepestQueue(): QueueDepth;
  /** Counters since start: WebSocket upgrade requests and the ones refused. */
  upgrades(): { requests: number; refused: number };
  storage(): StorageSpace | null;
}

/** An upgrade-counter sample, for the failure ratio over the window. */
interface UpgradeSample {
  at: number;
  requests: number;
  refused: number;
}

/**
 * The specification's four alerts, evaluated in the process every `alertIntervalMs` (a timer on
 * the front thread; each evaluation reads a few counters and sums one window of histograms):
 *
 *   LatencyP99High          event-to-send p99 over the metrics window > --alert-latency-p99-us
 *   QueueDepthHigh          the deepest queue (metrics/queue-depths.ts) > --alert-queue-depth
 *   ConnectionFailuresHigh  refused upgrades / upgrade requests over the window > --alert-connection-failure-percent
 *   StorageFreeLow          free space of the data directory's filesystem < --alert-storage-free-percent
 *
 * each pending for --alert-for-ms before firing. The same conditions, on the same metric names,
 * are the Prometheus rules in prometheus-rules.yml for a Prometheus server to evaluate.
 */
export class AlertEvaluator {
  readonly latency: AlertRule;
  readonly queue: AlertRule;
  readonly connections: AlertRule;
  readonly storage: AlertRule;
  readonly rules: readonly AlertRule[];
  private readonly samples: UpgradeSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  evaluatedAt = 0;

  constructor(
    private readonly inputs: AlertInputs,
    private readonly config: MetricsConfig,
  ) {
    const forMs = config.alertForMs;
    this.latency = new AlertRule('LatencyP99High', 'event-to-send p99 latency above the threshold', config.latencyP99Us / 1000, 'ms', 'above', forMs);
    this.queue = new AlertRule('QueueDepthHigh', 'a queue deeper than the threshold', config.queueDepth, 'items', 'above', forMs);
    this.connections = new AlertRule('ConnectionFailuresHigh', 'refused WebSocket upgrades above the threshold share of attempts', config.connectionFailurePercent, 'percent', 'above', forMs);
    this.storage = new AlertRule('StorageFreeLow', "free space of the data directory's filesystem below the threshold", config.storageFreePercent, 'percent', 'below', forMs);
    this.rules = [this.latency, this.queue, this.connections, this.storage];
  }

  start(): void {
    this.evaluate(Date.now());
    this.timer = setInterval(() => this.evaluate(Date.now()), this.config.alertIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  evaluate(now: number): void {
    const p99 = this.inputs.latencyP99Us();
    this.apply(this.latency, p99 === null ? null : p99 / 1000, '', now);
    const deepest = this.inputs.deepestQueue();
    this.apply(this.queue, deepest.depth, `${deepest.queue} (${deepest.unit})`, now);
    const failures = this.failureRatio(now);
    this.apply(this.connections, failures.percent, `${failures.refused} of ${failures.requests} upgrades refused in the window`, now);
    const space = this.inputs.storage();
    this.apply(this.storage, space === null || space.totalBytes === 0 ? null : (space.freeBytes / space.totalBytes) * 100, space === null ? 'data directory unreadable' : `${space.freeBytes} of ${space.totalBytes} bytes free`, now);
    this.evaluatedAt = now;
  }

  /** The body of GET /api/v1/alerts. */
  report(): object {
    const time = (ms: number | null) => (ms === null ? null : formatTimestampMicros(ms * 1000));
    return {
      evaluated_at: time(this.evaluatedAt || null),
      interval_ms: this.config.alertIntervalMs,
      for_ms: this.config.alertForMs,
      window_ms: this.config.windowMs,
      alerts: this.rules.map((r) => ({
        name: r.name,
        state: r.state,
        summary: r.summary,
        value: r.value === null ? null : Math.round(r.value * 1000) / 1000,
        threshold: r.threshold,
        unit: r.unit,
        detail: r.detail,
        since: time(r.since()),
        active_at: time(r.activeAt),
        fired_at: time(r.firedAt),
        resolved_at: time(r.resolvedAt),
      })),
    };
  }

  private apply(rule: AlertRule, value: number | null, detail: string, now: number): void {
    const transition = rule.evaluate(value, detail, now);
    if (transition === 'firing') log.warn({ alert: rule.name, value, threshold: rule.threshold, unit: rule.unit, detail }, `alert ${rule.name} firing`);
    else if (transition === 'resolved') log.info({ alert: rule.name, value, threshold: rule.threshold, unit: rule.unit }, `alert ${rule.name} resolved`);
    else if (transition === 'pending') log.debug({ alert: rule.name, value, threshold: rule.threshold }, `alert ${rule.name} pending`);
  }

  /** Refused share of the upgrade requests made within the window (0 when there were none). */
  private failureRatio(now: number): { percent: number; requests: number; refused: number } {
    const current = this.inputs.upgrades();
    const samples = this.samples;
    samples.push({ at: now, requests: current.requests, refused: current.refused });
    // Keep one sample at or before the window's start (or the first one, taken before the server
    // listened): the baseline the window's counts start from.
    while (samples.length > 2 && samples[1].at <= now - this.config.windowMs) samples.shift();
    const base = samples[0];
    const requests = current.requests - base.requests;
    const refused = current.refused - base.refused;
    return { percent: requests === 0 ? 0 : (refused / requests) * 100, requests, refused };
  }
}
