import t from 'tap';
import { startFrontLoop } from '../../src/app/front-loop';
import { Doorbell } from '../../src/ring/doorbell';
import { RingGroup } from '../../src/ring/ring-group';
import { SpscRing } from '../../src/ring/spsc-ring';

/** A ring group that never sleeps: it records each timeout the loop asks for and wakes at once. */
function recordingGroup(): { group: { park(): boolean; waitAsync(ms: number): Promise<unknown>; ring(): void }; timeouts: number[] } {
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
      ring: () => undefined,
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

t.test('idle, the loop sleeps until rung; while work waits for a retry the sleeps double from 1 ms to 20 ms, and start over after work', async (t) => {
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
  await until(() => timeouts.length >= 3);
  t.same(timeouts.slice(0, 3), [Infinity, Infinity, Infinity], 'idle: no timeout (a timeout would wake the thread even after a notify)');
  waiting = true;
  let from = timeouts.length;
  await until(() => timeouts.length >= from + 8);
  // The sleep already asked for when `waiting` turned may still have been without a timeout.
  const retries = timeouts.slice(from);
  const first = retries.indexOf(1);
  t.ok(first >= 0 && first <= 1, 'a retry pending: from 1 ms');
  t.same(retries.slice(first, first + 7), [1, 2, 4, 8, 16, 20, 20], 'doubling to 20 ms at most');
  pending = 1;
  from = timeouts.length;
  await until(() => pending === 0 && timeouts.length >= from + 4);
  const after = timeouts.slice(from);
  const restart = after.indexOf(1);
  t.ok(restart >= 0 && restart <= 1, 'after work, a pending retry starts over at 1 ms');
  waiting = false;
  from = timeouts.length;
  await until(() => timeouts.length >= from + 3);
  t.equal(timeouts[timeouts.length - 1], Infinity, 'nothing pending: no timeout again');
});

t.test('the safety ring wakes a loop that sleeps without a timeout', async (t) => {
  const bell = new Doorbell(Doorbell.allocate());
  const consumer = new SpscRing(SpscRing.allocate(4096), bell);
  let polls = 0;
  const stop = startFrontLoop(
    () => {
      polls++;
      return 0;
    },
    () => false,
    new RingGroup(bell, [consumer]),
    false,
  );
  t.teardown(stop);
  // Nobody publishes: only the loop's own once-a-second ring can wake it.
  await until(() => polls >= 3);
  t.pass('woken twice with no publication');
});

t.test('a record published while the loop sleeps wakes it through the doorbell', async (t) => {
  const bell = new Doorbell(Doorbell.allocate());
  const sab = SpscRing.allocate(4096);
  const producer = new SpscRing(sab, bell);
  const consumer = new SpscRing(sab, bell);
  const group = new RingGroup(bell, [consumer]);
  let sleeps = 0;
  const seen: number[] = [];
  const stop = startFrontLoop(
    () => consumer.read({ onRecord: (type) => seen.push(type) }, 16),
    () => false,
    {
      park: () => group.park(),
      waitAsync: (ms: number) => {
        sleeps++;
        return group.waitAsync(ms);
      },
      // No safety ring: only the producer's publication can wake the loop.
      ring: () => undefined,
    },
    false,
  );
  t.teardown(stop);
  await until(() => sleeps >= 1);
  producer.tryClaim(0, 42);
  producer.commit();
  await until(() => seen.length > 0);
  t.same(seen, [42]);
});
