import t from 'tap';
import type { RatePolicy } from '../../src/auth/caller';
import { MAX_ROLLUP_ENTRIES, RateRollup } from '../../src/limits/rate-rollup';

const POLICY: RatePolicy = { perSecond: 5, perMinute: 100, perHour: 1000, perDay: 10_000, burst: 5 };
const MINUTE = 60_000;

t.test('counts per subject and minute, and starts afresh after each take', async (t) => {
  let now = Date.UTC(2026, 0, 2, 3, 4, 30);
  const rollup = new RateRollup(() => now);
  rollup.count('cl_a', 'cl_a', 'rest', POLICY, true);
  rollup.count('cl_a', 'cl_a', 'rest', POLICY, false);
  rollup.count('ip:203.0.113.7', null, 'rest', POLICY, true);
  now += MINUTE;
  rollup.count('cl_a', 'cl_a', 'rest', { ...POLICY, perMinute: 7 }, false);
  const taken = rollup.take().sort((a, b) => a.subject.localeCompare(b.subject) || a.minute - b.minute);
  const minute = Date.UTC(2026, 0, 2, 3, 4) * 1000;
  t.same(taken, [
    { subject: 'cl_a', clientId: 'cl_a', bucket: 'rest', minute, allowed: 1, refused: 1, perMinute: 100, perHour: 1000, perDay: 10_000 },
    { subject: 'cl_a', clientId: 'cl_a', bucket: 'rest', minute: minute + MINUTE * 1000, allowed: 0, refused: 1, perMinute: 7, perHour: 1000, perDay: 10_000 },
    { subject: 'ip:203.0.113.7', clientId: null, bucket: 'rest', minute, allowed: 1, refused: 0, perMinute: 100, perHour: 1000, perDay: 10_000 },
  ], 'a minute that ended is kept apart from the next; the budget in force goes with each');
  t.same(rollup.take(), [], 'a take empties it');
  rollup.count('cl_a', 'cl_a', 'rest', POLICY, true);
  t.equal(rollup.take()[0].allowed, 1, 'and counting starts afresh');
});

t.test('past MAX_ROLLUP_ENTRIES subject-minutes between takes, the rest are counted as dropped, never held', async (t) => {
  const rollup = new RateRollup(() => 0);
  for (let i = 0; i < MAX_ROLLUP_ENTRIES + 3; i++) rollup.count(`ip:${i}`, null, 'rest', POLICY, true);
  t.equal(rollup.dropped, 3);
  t.equal(rollup.take().length, MAX_ROLLUP_ENTRIES);
  rollup.count('ip:late', null, 'rest', POLICY, true);
  t.equal(rollup.take().length, 1, 'room again after a take');
});
