import * as hdr from 'hdr-histogram-js';
import { SeqlockTable } from '../ring/seqlock-table';
import { DURABLE_LAG_SLOT, L_MAX_US, L_P50_US, L_P99_US, L_ROWS } from './persistence-protocol';

/**
 * The lag between a trade's event and its row being durable (committed), over a rolling
 * window, for /api/v1/health. The persistence worker records each stored trade once its batch
 * has committed: commit time minus the trade's event time, in µs. A row is one count in a
 * preallocated HDR histogram (hdr-histogram-js, 2 significant digits, no auto-resize): no
 * allocation per row, about 0.1 µs each (the database spends 1–2 µs storing the row).
 *
 * Window: six slices of 10 s. When the newest slice is 10 s old, the oldest is reset and becomes
 * the newest, so the window covers the last 50 to 60 s. Slices rotate by the worker's clock
 * even while no rows arrive, so an idle store's figures age out instead of staying forever.
 *
 * Publication: at most every PUBLISH_MS, and only when something changed, the slices are summed
 * into one histogram and its p50, p99, max and count written to a seqlock slot; the front thread
 * reads the four words as one consistent record (SeqlockTable), never a p99 from one summary
 * beside a max from another.
 */

const SLICES = 6;
const SLICE_MS = 10_000;
const PUBLISH_MS = 250;
/** Lags are clamped to a day: a backfill after a long outage still counts, at the top bucket. */
const HIGHEST_US = 86_400_000_000;

export const DURABLE_LAG_WINDOW_MS = SLICES * SLICE_MS;

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 2, autoResize: false });
}

export class DurableLagWindow {
  private readonly slices: hdr.Histogram[] = Array.from({ length: SLICES }, histogram);
  private readonly sum = histogram();
  private current: hdr.Histogram;
  private newest = 0;
  private sliceEndsAt: number;
  private publishAt = 0;
  private changed = true;

  constructor(
    private readonly table: SeqlockTable,
    nowMs: number,
  ) {
    this.current = this.slices[0];
    this.sliceEndsAt = nowMs + SLICE_MS;
  }

  /** One stored row: `lagMicros` from its event to its commit. */
  record(lagMicros: number): void {
    this.current.recordValue(lagMicros <= 0 ? 0 : lagMicros >= HIGHEST_US ? HIGHEST_US : lagMicros);
    this.changed = true;
  }

  /** Rotates slices that ended by `nowMs` and republishes when due. Call from the worker's loop. */
  tick(nowMs: number): void {
    if (nowMs >= this.sliceEndsAt) {
      const ended = Math.floor((nowMs - this.sliceEndsAt) / SLICE_MS) + 1;
      for (let i = 0; i < Math.min(ended, SLICES); i++) {
        this.newest = (this.newest + 1) % SLICES;
        this.current = this.slices[this.newest];
        if (this.current.totalCount > 0) this.changed = true;
        this.current.reset();
      }
      this.sliceEndsAt += ended * SLICE_MS;
    }
    if (!this.changed || nowMs < this.publishAt) return;
    this.changed = false;
    this.publishAt = nowMs + PUBLISH_MS;
    const sum = this.sum;
    sum.reset();
    for (let i = 0; i < SLICES; i++) if (this.slices[i].totalCount > 0) sum.add(this.slices[i]);
    const t = this.table;
    const at = t.base(DURABLE_LAG_SLOT);
    t.beginWrite(DURABLE_LAG_SLOT);
    // Percentiles are the top of their bucket (up to 1% high); max is the exact largest value.
    const max = sum.maxValue;
    t.f64[at + L_P50_US] = Math.min(sum.getValueAtPercentile(50), max);
    t.f64[at + L_P99_US] = Math.min(sum.getValueAtPercentile(99), max);
    t.f64[at + L_MAX_US] = max;
    t.f64[at + L_ROWS] = sum.totalCount;
    t.endWrite(DURABLE_LAG_SLOT);
  }
}
