import { LRUCache } from 'lru-cache';
import { SNAPSHOT_FIELDS, SnapshotField } from './market-snapshot';

/**
 * Most renders kept. A key is (instrument, field set): at most instruments × 2^16 sets exist, far
 * more than anyone asks for in a second, so a bound is needed; 4096 renders of ~300 bytes, each
 * with its cache-hit bytes once hit, is ~2.5 MB.
 */
export const LATEST_RENDERS_MAX = 4096;

/** A rendered `latest` answer but for its closing `cache_hit`, and what it is valid for. */
export interface LatestRender {
  sequence: number;
  second: number;
  body: string;
  /** The whole answer with `"cache_hit":true}` as UTF-8 bytes, made at the first hit (null before). */
  hit: ArrayBuffer | null;
}

/**
 * The rendered `GET …/latest` answers, reused while the symbol's sequence and the second are
 * unchanged. Keyed by the field *set* as a bit mask, never by the client's text: a key made of
 * the order a client wrote grew without bound (16! orderings) until the process ran out of memory.
 * Least recently used renders are dropped past LATEST_RENDERS_MAX.
 */
export class LatestRenders {
  private readonly cache: LRUCache<number, LatestRender>;

  constructor(max = LATEST_RENDERS_MAX) {
    this.cache = new LRUCache<number, LatestRender>({ max });
  }

  /** Renders held now (never more than the bound). */
  get size(): number {
    return this.cache.size;
  }

  get(instrument: number, fields: readonly SnapshotField[]): LatestRender | undefined {
    return this.cache.get(key(instrument, fields));
  }

  set(instrument: number, fields: readonly SnapshotField[], render: LatestRender): void {
    this.cache.set(key(instrument, fields), render);
  }
}

/** instrument × 2^16 + the set's bit mask: an exact integer below 2^53 for any instrument index. */
function key(instrument: number, fields: readonly SnapshotField[]): number {
  let mask = 0;
  for (const f of fields) mask |= 1 << SNAPSHOT_FIELDS.indexOf(f);
  return instrument * 65536 + mask;
}
