/**
 * Latencies one thread records and another reads, in shared memory: how a book worker reports
 * how late it applies events (event-to-apply) to the front thread's /metrics, where the
 * event-to-send latency already is. The two together say where an event's time went: before the
 * book worker took it (the source, its hand-off), or after (the out-ring, the front thread).
 *
 * Log-linear buckets of microseconds: 0–7 exactly, then SUB_BUCKETS per power of two, so a
 * bucket's width is at most 1/8 of its lower bound (a quantile is reported as its bucket's upper
 * bound: at most 12.5% high), up to 2^26 µs (67 s; longer waits count there). Each count is a
 * Uint32 that only its one writer thread increments, with plain stores: no atomics, no allocation.
 * A reader sees each aligned 32-bit count whole, and takes differences modulo 2^32, so counts that
 * wrap still give the right number of samples between two readings (fewer than 2^32 a window).
 */

/** p50, p95, p99 in µs and the samples they come from (null quantiles: no sample in the window). */
export interface LatencyQuantiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  samples: number;
}

const SUB_BITS = 3;
const SUB_BUCKETS = 1 << SUB_BITS;
const TOP_POWER = 26;
const LARGEST_US = 2 ** TOP_POWER - 1;
/** 0..SUB_BUCKETS-1 exactly, then SUB_BUCKETS for each power from SUB_BITS to TOP_POWER - 1. */
export const LATENCY_BUCKETS = SUB_BUCKETS + (TOP_POWER - SUB_BITS) * SUB_BUCKETS;
export const SHARED_LATENCY_BYTES = LATENCY_BUCKETS * Uint32Array.BYTES_PER_ELEMENT;

/** The bucket of a latency in whole µs (negative as 0, past the top at the top). */
export function latencyBucket(micros: number): number {
  const v = micros <= 0 ? 0 : micros >= LARGEST_US ? LARGEST_US : Math.floor(micros);
  if (v < SUB_BUCKETS) return v;
  const power = 31 - Math.clz32(v);
  return SUB_BUCKETS + (power - SUB_BITS) * SUB_BUCKETS + ((v >>> (power - SUB_BITS)) & (SUB_BUCKETS - 1));
}

/** The largest latency (µs) bucket `b` holds. */
export function bucketUpperUs(b: number): number {
  if (b < SUB_BUCKETS) return b;
  const power = SUB_BITS + ((b - SUB_BUCKETS) >> SUB_BITS);
  const sub = (b - SUB_BUCKETS) & (SUB_BUCKETS - 1);
  const width = 2 ** (power - SUB_BITS);
  return 2 ** power + (sub + 1) * width - 1;
}

/**
 * Slices per latency window (this one and LatencyWindow's): a window covers between
 * (SLICES - 1) / SLICES and all of its length. Here, not there: the book workers load this
 * module, and LatencyWindow's HDR histograms are the front thread's alone.
 */
export const WINDOW_SLICES = 6;

export function allocateSharedLatency(): SharedArrayBuffer {
  return new SharedArrayBuffer(SHARED_LATENCY_BYTES);
}

/** The writing side: one thread only. */
export class SharedLatencyWriter {
  private readonly counts: Uint32Array;

  constructor(sab: SharedArrayBuffer) {
    this.counts = new Uint32Array(sab, 0, LATENCY_BUCKETS);
  }

  record(micros: number): void {
    const b = latencyBucket(micros);
    this.counts[b] = (this.counts[b] + 1) >>> 0;
  }
}

/**
 * The reading side: the latencies of every writer's histogram over a sliding window of
 * WINDOW_SLICES rotations, as LatencyWindow's. `rotate` (the same timer) keeps a copy of the
 * counts; quantiles are over the counts since the oldest copy kept.
 */
export class SharedLatencyWindow {
  private readonly sources: Uint32Array[];
  /** WINDOW_SLICES copies of every source's counts, one after the other; the oldest at `oldest`. */
  private readonly copies: Uint32Array[];
  private oldest = 0;
  private readonly window = new Float64Array(LATENCY_BUCKETS);

  constructor(buffers: readonly SharedArrayBuffer[]) {
    this.sources = buffers.map((sab) => new Uint32Array(sab, 0, LATENCY_BUCKETS));
    this.copies = Array.from({ length: WINDOW_SLICES }, () => new Uint32Array(this.sources.length * LATENCY_BUCKETS));
    for (const copy of this.copies) this.copyInto(copy);
  }

  rotate(): void {
    this.copyInto(this.copies[this.oldest]);
    this.oldest = (this.oldest + 1) % WINDOW_SLICES;
  }

  quantiles(): LatencyQuantiles {
    const w = this.window;
    w.fill(0);
    const since = this.copies[this.oldest];
    for (let s = 0; s < this.sources.length; s++) {
      const now = this.sources[s];
      const base = s * LATENCY_BUCKETS;
      for (let b = 0; b < LATENCY_BUCKETS; b++) w[b] += (now[b] - since[base + b]) >>> 0;
    }
    let samples = 0;
    for (let b = 0; b < LATENCY_BUCKETS; b++) samples += w[b];
    if (samples === 0) return { p50: null, p95: null, p99: null, samples };
    return { p50: this.at(0.5, samples), p95: this.at(0.95, samples), p99: this.at(0.99, samples), samples };
  }

  private at(q: number, samples: number): number {
    let seen = 0;
    for (let b = 0; b < LATENCY_BUCKETS; b++) {
      seen += this.window[b];
      if (seen >= q * samples) return bucketUpperUs(b);
    }
    return bucketUpperUs(LATENCY_BUCKETS - 1);
  }

  private copyInto(copy: Uint32Array): void {
    for (let s = 0; s < this.sources.length; s++) copy.set(this.sources[s], s * LATENCY_BUCKETS);
  }
}
