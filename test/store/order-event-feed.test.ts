import t, { type Test } from 'tap';
import { unlinkSync } from 'node:fs';
import { EVENT_WORDS } from '../../src/model/events';
import { RECORD_BYTES } from '../../src/journal/journal-layout';
import { listSegments } from '../../src/journal/journal-segments';
import { JournalWriter } from '../../src/journal/journal-writer';
import { SRC_DURABLE, SRC_STATS_WORDS } from '../../src/model/source-words';
import { OrderEventFeed } from '../../src/store/order-event-feed';
import { eventFor, range, temporaryDir } from '../journal/journal-fixtures';

const SEGMENT = 100 * RECORD_BYTES;
const SYMBOLS = Array.from({ length: 13 }, (_, i) => `S${i}`);

/** A real journal and the source's stats word the feed reads its durable sequence from. */
function journal(t: Test) {
  const dir = temporaryDir(t);
  const writer = JournalWriter.open(dir, { segmentBytes: SEGMENT });
  t.teardown(() => writer.close());
  const stats = new SharedArrayBuffer(SRC_STATS_WORDS * 8);
  const f = new Float64Array(EVENT_WORDS);
  return {
    dir,
    stats,
    /** Appends `count` events and makes them durable, as the source does. */
    append(count: number): void {
      for (let i = 0; i < count; i++) {
        eventFor(writer.nextSequence, f, 0);
        writer.append(f, 0);
      }
      new Float64Array(stats)[SRC_DURABLE] = writer.sync();
    },
  };
}

t.test('the feed turns durable journal records into rows, a batch at a time', async (t) => {
  const j = journal(t);
  const feed = new OrderEventFeed(j.dir, j.stats, SYMBOLS, 50);
  t.equal(feed.poll(1000), 0, 'nothing before resume');
  feed.resume(0);
  t.equal(feed.poll(1000), 0, 'an empty journal has nothing');
  j.append(120);
  t.equal(feed.poll(1000), 50, 'never more than a batch');
  t.equal(feed.poll(1000), 0, 'the batch is full');
  t.ok(feed.due(Date.now(), 60_000), 'a full batch is due');
  const first = feed.take();
  const f = new Float64Array(EVENT_WORDS);
  eventFor(7, f, 0);
  t.same(first[6], { sequence: 7, symbol: SYMBOLS[f[1]], kind: f[0], side: f[2], orderId: f[3], price: f[4], size: f[5], newOrderId: f[6], time: f[7] });
  feed.stored(first);
  t.equal(feed.storedThrough, 50);
  t.equal(feed.poll(10), 10, 'a limit is respected');
  t.notOk(feed.due(feed.startedAt + 99, 100), 'a batch waits up to batchMs');
  t.ok(feed.due(feed.startedAt + 100, 100), 'then it is due');
  feed.poll(1000);
  t.same(feed.take().map((r) => r.sequence), range(51, 100));
  t.equal(feed.skipped, 0);
});

t.test('halted, the feed drops its batch; resumed, it starts after what the database holds', async (t) => {
  const j = journal(t);
  j.append(80);
  const feed = new OrderEventFeed(j.dir, j.stats, SYMBOLS, 1000);
  feed.resume(0);
  feed.poll(1000);
  const written = feed.take().slice(0, 30);
  feed.stored(written);
  feed.poll(1000);
  t.equal(feed.rows.length, 0, 'the rest was taken and lost in a failed write');
  feed.halt();
  t.notOk(feed.following);
  t.equal(feed.poll(1000), 0, 'a halted feed reads nothing');
  feed.resume(30);
  t.equal(feed.poll(1000), 50);
  t.same(feed.rows.map((r) => r.sequence), range(31, 80), 'from the resume point, nothing twice');
});

t.test('records retention deleted before their turn are counted as skipped', async (t) => {
  const j = journal(t);
  j.append(250);
  const segments = listSegments(j.dir);
  t.ok(segments.length >= 3);
  unlinkSync(segments[0].path);
  unlinkSync(segments[1].path);
  const feed = new OrderEventFeed(j.dir, j.stats, SYMBOLS, 1000);
  feed.resume(40);
  feed.poll(1000);
  const rows = feed.take();
  t.equal(rows[0].sequence, segments[2].firstSequence, 'goes on from the oldest segment left');
  feed.stored(rows);
  t.equal(feed.skipped, segments[2].firstSequence - 41, 'the gap after the resume point');
  t.equal(feed.storedThrough, 250);
});
