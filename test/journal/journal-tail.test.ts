import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_WORDS } from '../../src/model/events';
import { RECORD_BYTES } from '../../src/journal/journal-layout';
import { listSegments } from '../../src/journal/journal-segments';
import { JournalTail } from '../../src/journal/journal-tail';
import { JournalWriter } from '../../src/journal/journal-writer';
import { Collector, eventFor, range, temporaryDir } from './journal-fixtures';

const SEGMENT = 100 * RECORD_BYTES;

function append(writer: JournalWriter, count: number): void {
  const f = new Float64Array(EVENT_WORDS);
  for (let i = 0; i < count; i++) {
    eventFor(writer.nextSequence, f, 0);
    writer.append(f, 0);
  }
}

t.test('a tail follows a growing journal across segments, up to the durable sequence only', async (t) => {
  const dir = temporaryDir(t);
  const writer = JournalWriter.open(dir, { segmentBytes: SEGMENT });
  t.teardown(() => writer.close());
  const tail = new JournalTail(dir, 1);
  const seen = new Collector();
  t.equal(tail.read(seen, 0, 1000), 0, 'an empty journal has nothing');

  append(writer, 150);
  writer.flush();
  // Rolling to the second segment synced the first one: only that much is durable yet.
  const durable = writer.durableSequence;
  t.ok(durable < 150, `durable ${durable} of 150 written`);
  t.equal(tail.read(seen, durable, 1000), durable, 'written but not durable: not read');
  writer.sync();
  t.equal(tail.read(seen, writer.durableSequence, 20), 20, 'a limit is respected');
  t.equal(tail.read(seen, writer.durableSequence, 1000), 130 - durable, 'the rest');
  t.equal(tail.read(seen, writer.durableSequence, 1000), 0, 'caught up');

  for (let round = 0; round < 5; round++) {
    append(writer, 37 + round * 29);
    writer.sync();
    tail.read(seen, writer.durableSequence, 1000);
  }
  t.same(seen.sequences, range(1, writer.durableSequence), 'every record once, in order');
  t.equal(seen.firstWrong, -1, 'with its words intact');
  t.ok(listSegments(dir).length > 3, 'several segments were crossed');
  t.equal(tail.next, writer.durableSequence + 1);
  tail.close();
});

t.test('a tail that starts in the middle seeks straight to its record', async (t) => {
  const dir = temporaryDir(t);
  const writer = JournalWriter.open(dir, { segmentBytes: SEGMENT });
  t.teardown(() => writer.close());
  append(writer, 350);
  writer.sync();
  const tail = new JournalTail(dir, 222);
  const seen = new Collector();
  t.equal(tail.read(seen, writer.durableSequence, 1000), 129);
  t.same(seen.sequences, range(222, 350));
  tail.close();
});

t.test('segments deleted by retention are skipped and counted', async (t) => {
  const dir = temporaryDir(t);
  const writer = JournalWriter.open(dir, { segmentBytes: SEGMENT });
  t.teardown(() => writer.close());
  append(writer, 250);
  writer.sync();
  for (const s of listSegments(dir).slice(0, 2)) rmSync(s.path);
  const tail = new JournalTail(dir, 5);
  const seen = new Collector();
  tail.read(seen, writer.durableSequence, 1000);
  t.equal(tail.skipped, 196, 'records 5..200 were gone');
  t.same(seen.sequences, range(201, 250));
  tail.close();
});

t.test('damage below the durable sequence is an error, not a wait', async (t) => {
  const dir = temporaryDir(t);
  const writer = JournalWriter.open(dir, { segmentBytes: SEGMENT });
  append(writer, 50);
  writer.close();
  const [segment] = listSegments(dir);
  const bytes = new Uint8Array(RECORD_BYTES).fill(0x55);
  writeFileSync(join(dir, segment.name), bytes, { flag: 'r+' });
  const tail = new JournalTail(dir, 1);
  t.throws(() => tail.read(new Collector(), 50, 1000), { code: 'JOURNAL_CORRUPT' });
  tail.close();
});
