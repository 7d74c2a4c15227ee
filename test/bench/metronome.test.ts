import t from 'tap';
import { nextTickUs } from '../../bench/gateway/metronome';

/**
 * The metronome paces open-loop senders: a tick late by more than a period must not move the
 * ticks after it off the schedule (t0 + k·tick), or every later send is late by the shift.
 */
t.test('a tick on time is followed by the next one on the grid', async (t) => {
  t.equal(nextTickUs(1_000, 1_050, 0, 1_000), 2_000);
  t.equal(nextTickUs(2_000, 3_000, 0, 1_000), 3_000, 'a next tick due now is kept');
});

t.test('after a long stall the latest missed tick comes at once, on the grid', async (t) => {
  // Started 2.5 periods after t0: one tick at once for t0 + 2·tick, then t0 + 3·tick.
  const t0 = 10_000;
  const tick = 9_900;
  const late = t0 + 2.5 * tick;
  const next = nextTickUs(t0, late, t0, tick);
  t.equal(next, t0 + 2 * tick, 'the latest tick at or before now');
  t.ok(next <= late, 'due already: the thread does not sleep for it');
  t.equal(nextTickUs(next, late + 10, t0, tick), t0 + 3 * tick, 'then the grid goes on in phase');
});
