import t from 'tap';
import { startFrontLoop } from '../../src/app/front-loop';
import { Doorbell } from '../../src/ring/doorbell';
import { RingGroup } from '../../src/ring/ring-group';
import { SpscRing } from '../../src/ring/spsc-ring';

/** A ring group that never sleeps: it records each timeout the loop asks for and wakes at once. */
function recordingGroup(): { group: { park(): boolean; waitAsync(ms: number): Promise<unknown> }; timeouts: number[] } {
  const timeouts: number[] = [];
  return {
    timeouts,
    group: {
      park: () => true,
      waitAsync: (ms: number) => {
        timeouts.push(ms);
        // A turn of the event loop, as a real wait is: a resolved promise would loop in microtasks.
        return new Promise((resolve) => setImmediate(resolve));
      },
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

t.test('idle sleeps double up to a second; while work waits for a retry they stop at 20 ms; work starts over at 1 ms', async (t) => {
  const { group, timeouts } = recordingGroup();
  let waiting = false;
  let pending = 0;
  const stop = startFrontLoop(
    () => (pending > 0 ? pending-- : 0),
    () => waiting,
    group,
    false,
  );
  t.teardown(stop);
  await until(() => timeouts.length >= 13);
  t.same(timeouts.slice(0, 13), [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 1000, 1000], 'idle: 1 ms doubling to 1 s');
  waiting = true;
  let from = timeouts.length;
  await until(() => timeouts.length >= from + 2);
  t.same(timeouts.slice(from, from + 2), [20, 20], 'a retry pending: 20 ms at most');
  waiting = false;
  from = timeouts.length;
  pending = 1;
  await until(() => pending === 0 && timeouts.length >= from + 5);
  const after = timeouts.slice(from);
  const restart = after.indexOf(1);
  t.ok(restart >= 0 && restart <= 1, 'the sleep after the work is the shortest');
  t.same(after.slice(restart, restart + 3), [1, 2, 4], 'after work: from 1 ms again');
});

t.test('a record published while the loop sleeps long wakes it through the doorbell', async (t) => {
  const bell = new Doorbell(Doorbell.allocate());
  const sab = SpscRing.allocate(4096);
  const producer = new SpscRing(sab, bell);
  const consumer = new SpscRing(sab, bell);
  let idleTurns = 0;
  const seen: number[] = [];
  const stop = startFrontLoop(
    () => {
      const n = consumer.read({ onRecord: (type) => seen.push(type) }, 16);
      if (n === 0) idleTurns++;
      return n;
    },
    () => false,
    new RingGroup(bell, [consumer]),
    false,
  );
  t.teardown(stop);
  // After 8 idle turns the loop sleeps for 128 ms, then 256, …
  await until(() => idleTurns >= 8);
  producer.tryClaim(0, 42);
  producer.commit();
  await until(() => seen.length > 0);
  t.same(seen, [42]);
});
