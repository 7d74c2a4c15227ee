/**
 * Candle intervals. Every interval is aligned to the Unix epoch in UTC: a 1d candle starts at
 * 00:00 UTC, a 4h candle at 00:00, 04:00, ... UTC, a 1m candle on the whole minute. Epoch
 * alignment is what lets two processes (or a restart) agree on candle boundaries without any
 * shared state, and it holds for every interval here because each divides a day.
 * An interval is named by its index in INTERVALS on hot paths and in ring records.
 */

export interface CandleInterval {
  /** As clients spell it: "1m", "5m", "15m", "1h", "4h", "1d". */
  readonly name: string;
  /** Length in microseconds. */
  readonly micros: number;
}

const MINUTE = 60_000_000;

export const INTERVALS: readonly CandleInterval[] = Object.freeze([
  Object.freeze({ name: '1m', micros: MINUTE }),
  Object.freeze({ name: '5m', micros: 5 * MINUTE }),
  Object.freeze({ name: '15m', micros: 15 * MINUTE }),
  Object.freeze({ name: '1h', micros: 60 * MINUTE }),
  Object.freeze({ name: '4h', micros: 240 * MINUTE }),
  Object.freeze({ name: '1d', micros: 1440 * MINUTE }),
]);

export const INTERVAL_COUNT = INTERVALS.length;

/** The index of the interval called `name`, or -1 if there is none. */
export function intervalIndex(name: string): number {
  for (let i = 0; i < INTERVAL_COUNT; i++) if (INTERVALS[i].name === name) return i;
  return -1;
}

/**
 * Start of the interval-`i` candle holding timestamp `ts` (microseconds since the epoch): the
 * largest multiple of the interval length not after `ts`, also for timestamps before 1970.
 */
export function intervalStart(ts: number, i: number): number {
  const length = INTERVALS[i].micros;
  const into = ts % length;
  return into < 0 ? ts - into - length : ts - into;
}
