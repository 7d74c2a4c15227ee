/**
 * ISO-8601 UTC with exactly six fractional digits: 1795307222123456 → "2026-11-22T00:27:02.123456Z".
 *
 * Exact for every integer microsecond count below 2^53: the split into whole seconds and
 * microseconds uses % (exact on doubles) and divides only exact multiples of 1e6, so nothing
 * rests on how a division rounds a fraction, and no Date ever sees microseconds (it keeps
 * milliseconds only). Messages come in bursts within one second, so the date-and-time part is
 * cached for the last two seconds seen (one Date per second, not per message): two, because a
 * candle message formats both its own time and its interval's start, which would evict each
 * other from a single entry. Fractional input is truncated toward the earlier microsecond.
 */

// Most recently used first.
let recentSecond = NaN;
let recentPrefix = '';
let olderSecond = NaN;
let olderPrefix = '';

export function formatTimestampMicros(us: number): string {
  const whole = Math.floor(us);
  let micros = whole % 1_000_000;
  if (micros < 0) micros += 1_000_000;
  const second = (whole - micros) / 1_000_000;
  if (second !== recentSecond) {
    let prefix = olderPrefix;
    if (second !== olderSecond) {
      // toISOString ends in ".mmmZ": keep "YYYY-MM-DDTHH:MM:SS.".
      const iso = new Date(second * 1000).toISOString();
      prefix = iso.slice(0, iso.length - 4);
    }
    olderSecond = recentSecond;
    olderPrefix = recentPrefix;
    recentSecond = second;
    recentPrefix = prefix;
  }
  return recentPrefix + String(micros + 1_000_000).slice(1) + 'Z';
}

/**
 * The inverse, for times people type: ISO-8601 (to the microsecond, like every timestamp
 * bookcast writes) or epoch milliseconds; returns microseconds since the epoch, or NaN.
 */
export function parseTimestamp(text: string): number {
  if (/^\d{1,15}$/.test(text)) return Number(text) * 1000;
  // Date.parse keeps milliseconds; the fraction's 4th to 6th digits are added back exactly.
  const iso = /^(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,3})?)?)(\d{0,3})(Z|[+-]\d\d:\d\d)?$/.exec(text);
  const ms = iso === null ? NaN : Date.parse(iso[1] + (iso[3] ?? ''));
  return ms * 1000 + Number((iso?.[2] ?? '').padEnd(3, '0'));
}
