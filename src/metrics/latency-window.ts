import * as hdr from 'hdr-histogram-js';
import { type LatencyQuantiles, WINDOW_SLICES as SLICES } from '../ring/shared-latency';

/** Latencies are clamped to a minute (µs): a stalled minute still counts, at the top bucket. */
const HIGHEST_US = 60_000_000;

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 2, autoResize: false });
}

/**
 * Latencies over a sliding window, in `series` independent series (one per channel): each series
 * is SLICES preallocated HDR histograms (hdr-histogram-js, 2 significant digits, no resizing), a
 * sample is one `recordValue` into the current slice (no allocation), and `rotate` (a timer,
 * every window / SLICES) clears the oldest slice and makes it current. Quantiles sum the slices
 * into one scratch histogram, at read time only (scrape, alert evaluation).
 * The same scheme as store/durable-lag.ts, on the front thread.
 */
export class LatencyWindow {
  private readonly slices: hdr.Histogram[][];
  private readonly current: hdr.Histogram[];
  private readonly sum = histogram();
  private newest = 0;

  constructor(readonly series: number) {
    this.slices = Array.from({ length: series }, () => Array.from({ length: SLICES }, histogram));
    this.current = this.slices.map((s) => s[0]);
  }

  /** The timer period that makes the window `windowMs` long. */
  static rotateEveryMs(windowMs: number): number {
    return Math.max(100, Math.floor(windowMs / SLICES));
  }

  record(series: number, micros: number): void {
    this.current[series].recordValue(micros < 0 ? 0 : micros > HIGHEST_US ? HIGHEST_US : micros);
  }

  rotate(): void {
    this.newest = (this.newest + 1) % SLICES;
    for (let s = 0; s < this.series; s++) {
      const slice = this.slices[s][this.newest];
      slice.reset();
      this.current[s] = slice;
    }
  }

  /** Quantiles of one series, or of all together (`series` -1). */
  quantiles(series: number): LatencyQuantiles {
    const sum = this.sum;
    sum.reset();
    for (let s = 0; s < this.series; s++) {
      if (series >= 0 && s !== series) continue;
      for (const slice of this.slices[s]) if (slice.totalCount > 0) sum.add(slice);
    }
    const samples = sum.totalCount;
    if (samples === 0) return { p50: null, p95: null, p99: null, samples };
    return { p50: sum.getValueAtPercentile(50), p95: sum.getValueAtPercentile(95), p99: sum.getValueAtPercentile(99), samples };
  }
}
