import t from 'tap';
import { join } from 'node:path';
import { EVENT_WORDS, W_TIMESTAMP } from '../../src/model/events';
import { RECORD_BYTES } from '../../src/journal/journal-layout';
import { JournalReader, JournalReadOptions } from '../../src/journal/journal-reader';
import { JournalWriter } from '../../src/journal/journal-writer';
import { Collector, eventFor, range, temporaryDir, timestampOf } from './journal-fixtures';

const event = new Float64Array(EVENT_WORDS);

function writeJournal(dir: string, count: number): JournalWriter {
  const writer = JournalWriter.open(dir, { segmentBytes: RECORD_BYTES * 8 });
  for (let i = 0; i < count; i++) {
    eventFor(writer.nextSequence, event, 0);
    writer.append(event, 0);
  }
  writer.flush();
  return writer;
}

function read(dir: string, opts?: JournalReadOptions): Collector {
  const collector = new Collector();
  const count = new JournalReader(dir).read(collector, opts);
  if (count !== collector.sequences.length) throw new Error(`read returned ${count}, delivered ${collector.sequences.length}`);
  return collector;
}

t.test('filters by sequence and by time, inclusive at both ends', (t) => {
  const dir = temporaryDir(t);
  writeJournal(dir, 100).close(); // 13 segments of 8
  t.same(read(dir).sequences, range(1, 100));
  t.same(read(dir, { fromSequence: 1 }).sequences, range(1, 100));
  t.same(read(dir, { fromSequence: 57 }).sequences, range(57, 100), 'inside a segment');
  t.same(read(dir, { fromSequence: 65 }).sequences, range(65, 100), 'first of a segment');
  t.same(read(dir, { fromSequence: 100 }).sequences, [100]);
  t.same(read(dir, { fromSequence: 101 }).sequences, []);
  t.same(read(dir, { fromTime: timestampOf(40) }).sequences, range(40, 100));
  t.same(read(dir, { untilTime: timestampOf(12) }).sequences, range(1, 12));
  t.same(read(dir, { fromTime: timestampOf(20) + 1, untilTime: timestampOf(30) - 1 }).sequences, range(21, 29));
  t.same(read(dir, { fromSequence: 25, fromTime: timestampOf(10), untilTime: timestampOf(30) }).sequences, range(25, 30));
  const collector = read(dir, { fromSequence: 9 });
  t.equal(collector.firstWrong, -1, 'events read back word for word');
  t.end();
});

t.test('timestamps that do not follow the sequence are filtered record by record', (t) => {
  const dir = temporaryDir(t);
  const writer = JournalWriter.open(dir, { segmentBytes: RECORD_BYTES * 3 });
  const stamps = [50, 10, 40, 20, 30, 60, 5];
  for (const stamp of stamps) {
    event[W_TIMESTAMP] = stamp;
    writer.append(event, 0);
  }
  writer.close();
  const seen: [number, number][] = [];
  new JournalReader(dir).read({ onEvent: (sequence, f64, offset) => seen.push([sequence, f64[offset + W_TIMESTAMP]]) }, { fromTime: 20, untilTime: 50 });
  t.same(seen, [[1, 50], [3, 40], [4, 20], [5, 30]]);
  t.end();
});

t.test('a live journal: the reader sees what was flushed, and stops at a torn tail without error', (t) => {
  const dir = temporaryDir(t);
  const writer = writeJournal(dir, 20);
  eventFor(writer.nextSequence, event, 0);
  writer.append(event, 0); // buffered, not flushed
  t.same(read(dir).sequences, range(1, 20));
  writer.flush();
  t.same(read(dir).sequences, range(1, 21));
  writer.close();
  t.end();
});

t.test('an empty journal reads nothing; a missing one is an error', (t) => {
  const dir = temporaryDir(t);
  JournalWriter.open(dir).close();
  t.same(read(dir).sequences, []);
  t.throws(() => new JournalReader(join(dir, 'nope')), { code: 'JOURNAL_NOT_FOUND' });
  t.end();
});
