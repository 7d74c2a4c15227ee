import type { CandleSeal } from './candle-seal';
import type { HistoryCache } from './history-cache';

/**
 * The history routes' cache hook: an answer comes from the cache when kept there; otherwise it is
 * read from the store and kept only if the candles it covers were final before the read began
 * (candle-seal.ts), so what is kept is exactly what any later read would return.
 */
export class HistoryReads {
  constructor(
    readonly cache: HistoryCache,
    private readonly seal: CandleSeal,
  ) {}

  /** Whether `key` is kept: the answer, else undefined (a lookup: counted as a hit or a miss). */
  cached(key: string): Promise<string | undefined> {
    return this.cache.get(key);
  }

  /**
   * Reads an answer over the stored candles of `symbol`/`interval` starting before `end` (µs,
   * exclusive) and keeps it under `key` when they are final and `alsoFinal` (what the route adds
   * from memory is final too) holds.
   */
  async read(key: string, symbol: number, interval: string, end: number, read: () => Promise<string>, alsoFinal: () => boolean = always): Promise<string> {
    const final = (await this.seal.sealed(symbol, interval, end)) && alsoFinal();
    const body = await read();
    if (final) this.cache.set(key, body);
    return body;
  }
}

function always(): boolean {
  return true;
}
