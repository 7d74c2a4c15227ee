/** One route and status: a count per bucket (the last is +Inf, not cumulative), their sum and count. */
interface Series {
  readonly labels: { route: string; status: string };
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/** One exported sample, as prom-client's registry formats them: its own labels, then the series'. */
interface Sample {
  labels: Record<string, string | number>;
  sharedLabels: Series['labels'];
  value: number;
  metricName: string;
}

const NO_LABELS = {};

/**
 * A Prometheus histogram of REST answers by route pattern and status, registered with prom-client
 * (its registry asks a metric for `name`, `get()` when scraped and `reset()`, nothing else) and
 * exported exactly as prom-client's Histogram would export the same observations.
 *
 * It exists because REST answers reach it one by one on the front thread. prom-client's `observe`
 * validates the label object, builds a hash string and looks it up on every call: 0.6–0.9 µs and
 * ~150 heap bytes per answer here (bench/metrics/request-observer). This looks up a map by the
 * pattern (the route's own constant string) and then by the numeric status.
 */
export class RequestDurations {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Map<number, Series>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: readonly number[],
  ) {}

  observe(route: string, status: number, seconds: number): void {
    let byStatus = this.series.get(route);
    if (byStatus === undefined) this.series.set(route, (byStatus = new Map()));
    let s = byStatus.get(status);
    if (s === undefined) {
      s = { labels: { route, status: String(status) }, buckets: new Float64Array(this.upperBounds.length + 1), sum: 0, count: 0 };
      byStatus.set(status, s);
    }
    let b = 0;
    while (b < this.upperBounds.length && seconds > this.upperBounds[b]) b++;
    s.buckets[b]++;
    s.sum += seconds;
    s.count++;
  }

  /** prom-client's export of a histogram: per series its cumulative buckets, +Inf last, then sum and count. */
  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: string } {
    const values: Sample[] = [];
    for (const byStatus of this.series.values()) {
      for (const s of byStatus.values()) {
        let cumulative = 0;
        for (let b = 0; b <= this.upperBounds.length; b++) {
          cumulative += s.buckets[b];
          const le = b < this.upperBounds.length ? this.upperBounds[b] : '+Inf';
          values.push({ labels: { le }, sharedLabels: s.labels, value: cumulative, metricName: `${this.name}_bucket` });
        }
        values.push({ labels: NO_LABELS, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
        values.push({ labels: NO_LABELS, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
      }
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.series.clear();
  }
}
