import t from 'tap';
import { Doorbell } from '../../src/ring/doorbell';
import { SpscRing } from '../../src/ring/spsc-ring';
import { EventWriter } from '../../src/source/event-writer';
import { EVENT_BYTES, EV_ADD, W_ORDER_ID } from '../../src/model/events';
import { JournalWriter } from '../../src/journal/journal-writer';
import { temporaryDir, until } from '../journal/journal-fixtures';

/**
 * A source's count of emitted events is copied to its stats in `beforeVisible`. The books'
 * accepted events may never pass it, so the hook must run before every publication, the early
 * one a full ring forces in the middle of a batch included.
 */
t.test('beforeVisible runs before the books can see what it counts, when a full ring publishes early too', async (t) => {
  const ring = SpscRing.allocate(4 * EVENT_BYTES);
  const bell = Doorbell.allocate();
  const writer = new EventWriter([ring], [bell], new Int32Array([0, 0]));
  const books = new SpscRing(ring, new Doorbell(bell));
  const seen: number[] = [];
  const drain = (): void => {
    books.read({ onRecord: (_type, offset) => seen.push(books.f64[(offset >>> 3) + W_ORDER_ID]) }, 1 << 20);
  };
  let written = 0;
  let reported = 0;
  let publications = 0;
  let ahead = 0;
  writer.beforeVisible = () => {
    // Standing in for the book worker: whatever it can read now was published by an earlier
    // publication, so the count reported before that one must already cover it.
    drain();
    if (seen.length > reported) ahead++;
    reported = written;
    publications++;
  };

  // Ten events into a ring with room for fewer: the writer must publish (and wait for space) mid-batch.
  for (let id = 1; id <= 10; id++) {
    writer.event(EV_ADD, id % 2, 0, id, 100, 1, 0, id);
    written++;
  }
  writer.publish();
  drain();
  t.ok(publications > 1, `the full ring forced early publications (${publications})`);
  t.equal(ahead, 0, 'the books never saw an event before the count covering it was reported');
  t.same(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'every event reached the books once, in order');
  t.equal(reported, 10);
});

/**
 * The group commit's fdatasync wakes a libuv pool thread; where cores are few, a book worker rung
 * after it waited for that thread's core. So a batch is visible to the books before the sync
 * that covers it starts, and the sync still covers it.
 */
t.test('a batch is visible to the books before its group commit starts', async (t) => {
  const dir = temporaryDir(t);
  const ring = SpscRing.allocate(64 * EVENT_BYTES);
  const writer = new EventWriter([ring], [Doorbell.allocate()], new Int32Array([0]));
  const books = new SpscRing(ring);
  let durable = 0;
  const journal = JournalWriter.open(dir, { backgroundSync: true, fsyncIntervalMs: 0, onDurable: (d) => (durable = d) });
  t.teardown(() => journal.close());
  writer.journalTo(journal, { events: 0, intervalMs: 0 }, 0);
  const visibleAtSync: number[] = [];
  let seen = 0;
  const maybeSync = journal.maybeSync.bind(journal);
  journal.maybeSync = (nowMs) => {
    seen += books.read({ onRecord: () => undefined }, 1 << 20);
    visibleAtSync.push(seen);
    return maybeSync(nowMs);
  };

  for (let id = 1; id <= 5; id++) writer.event(EV_ADD, 0, 0, id, 100, 1, 0, id);
  writer.publish();
  t.same(visibleAtSync, [5], 'the books could read all five events when the sync started');
  await until(() => durable === 5);
  t.equal(durable, 5, 'the background sync made all five durable');
});
