import type { Persistence } from '../store/persistence';
import type { CandleRecord } from '../store/store';
import { nowMicros } from '../util/clock';

/** The latest time a query may name (a candle starting later than this is not looked for). */
const FAR_FUTURE_US = Date.UTC(2200, 0, 1) * 1000;
/** How long "not final yet" is believed before the store is asked again (the safe direction to be stale). */
const OPEN_RECHECK_US = 1_000_000;

/**
 * Decides whether the stored candles of one symbol and interval that start before `end` are
 * final: whether a history answer over them can never change, and so may be cached.
 *
 * The rule: they are final once the store holds a candle of the same symbol and interval that
 * starts at or after `end`. Why that is exact:
 * - one candle builder per symbol closes an interval's candles in start order, each once, and a
 *   trade stamped before its clock is booked at the clock, so no closed start ever reopens
 *   (engine/candle-builder.ts); the persist ring carries them in that order;
 * - the persistence worker commits batches in ring order, oldest spooled batch first, and never a
 *   later batch before an earlier one succeeded, so what the store holds of them is always a
 *   prefix of that order (a restart replays the journal into the same candles, rewritten the same).
 * So a stored candle at or after `end` means every candle before `end` that will ever exist is
 * already stored. The wall clock plays no part: a recording replayed at its own times is judged
 * by its own candles, and a range "in the past" that the store has not caught up with is not final.
 * What it does not cover: rows an operator deletes or imports by hand, and retention dropping old
 * partitions, while an answer is cached (up to an hour; DELETE /api/v1/cache/{pattern} then).
 *
 * The answer must be read from the store after `sealed` resolved true (HistoryReads does), never
 * before: a read that began before the last candle of the range was stored would be kept wrong.
 */
export class CandleSeal {
  /** Per `symbol index:interval`: the latest stored start seen (only grows). */
  private readonly storedThrough = new Map<string, number>();
  /** Per `symbol index:interval`: when the store last said "nothing at or after" (µs), and for which end. */
  private readonly openAt = new Map<string, { end: number; checked: number }>();

  constructor(private readonly persistence: Pick<Persistence, 'query'>) {}

  async sealed(symbol: number, interval: string, end: number): Promise<boolean> {
    const key = `${symbol}:${interval}`;
    const through = this.storedThrough.get(key);
    if (through !== undefined && through >= end) return true;
    const now = nowMicros();
    const open = this.openAt.get(key);
    // "Not final" for an end at or before one recently found open is still "not final" (a miss, never a wrong answer).
    if (open !== undefined && end >= open.end && now - open.checked < OPEN_RECHECK_US) return false;
    if (end > FAR_FUTURE_US) return false;
    let next: CandleRecord[];
    try {
      next = await this.persistence.query<CandleRecord[]>({ kind: 'candles', symbol, interval, from: end, to: FAR_FUTURE_US, limit: 1, offset: 0 });
    } catch {
      // The store could not say (busy, down): not known final, so not kept; the read itself reports the trouble.
      return false;
    }
    if (next.length === 0) {
      this.openAt.set(key, { end, checked: now });
      return false;
    }
    if (through === undefined || next[0].start > through) this.storedThrough.set(key, next[0].start);
    return true;
  }
}
