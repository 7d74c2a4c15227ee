import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_WORDS } from '../../src/model/events';
import { RECORD_BYTES } from '../../src/journal/journal-layout';
import { JournalReader } from '../../src/journal/journal-reader';
import { segmentFileName } from '../../src/journal/journal-segments';
import { JournalWriter, JournalWriterOptions } from '../../src/journal/journal-writer';
import { Collector, eventFor, range, temporaryDir, until } from './journal-fixtures';

const event = new Float64Array(EVENT_WORDS * 3);

/** Appends events for sequences next..next+count-1 (placed at word 8 of a larger array), flushing every `every`. */
function appendEvents(writer: JournalWriter, count: number, every = 16): void {
  for (let i = 0; i < count; i++) {
    eventFor(writer.nextSequence, event, EVENT_WORDS);
    writer.append(event, EVENT_WORDS);
    if ((i + 1) % every === 0) writer.flush();
  }
}

function readAll(dir: string): Collector {
  const collector = new Collector();
  new JournalReader(dir).read(collector);
  return collector;
}

function writeJournal(dir: string, count: number, opts: JournalWriterOptions = {}): void {
  const writer = JournalWriter.open(dir, opts);
  appendEvents(writer, count);
  writer.close();
}

const readBytes = (file: string): Uint8Array => new Uint8Array(readFileSync(file));

function flipByte(file: string, offset: number): void {
  const bytes = readBytes(file);
  bytes[offset] ^= 0x40;
  writeFileSync(file, bytes);
}

const firstSegment = (dir: string): string => join(dir, segmentFileName(1));

t.test('append, sync, reopen and continue', (t) => {
  const dir = temporaryDir(t);
  const writer = JournalWriter.open(dir);
  t.same(writer.recovery, { segments: 0, truncatedBytes: 0 });
  t.equal(writer.nextSequence, 1);
  eventFor(1, event, 0);
  t.equal(writer.append(event, 0), 1, 'the first sequence is 1');
  appendEvents(writer, 99);
  t.equal(writer.nextSequence, 101);
  writer.flush();
  t.equal(writer.durableSequence, 0, 'written is not durable');
  t.equal(writer.sync(), 100);
  t.equal(writer.durableSequence, 100);
  writer.close();
  writer.close();
  t.equal(statSync(firstSegment(dir)).size, 100 * RECORD_BYTES);

  const again = JournalWriter.open(dir);
  t.same(again.recovery, { segments: 1, truncatedBytes: 0 });
  t.equal(again.nextSequence, 101);
  t.equal(again.durableSequence, 100);
  appendEvents(again, 50);
  again.close();
  const read = readAll(dir);
  t.same(read.sequences, range(1, 150));
  t.equal(read.firstWrong, -1, 'every event reads back word for word');
  t.end();
});

t.test('maybeSync syncs at most once per interval, and only with something to sync', (t) => {
  const dir = temporaryDir(t);
  const writer = JournalWriter.open(dir, { fsyncIntervalMs: 5 });
  t.equal(writer.maybeSync(0), 0, 'nothing appended');
  appendEvents(writer, 3);
  t.equal(writer.maybeSync(100), 3, 'flushes and syncs');
  appendEvents(writer, 2);
  t.equal(writer.maybeSync(104), 3, 'inside the interval');
  t.equal(writer.maybeSync(105), 5, 'interval over');
  t.equal(writer.maybeSync(1000), 5);
  writer.close();
  t.end();
});

t.test('buffer-full flushes and many segments', (t) => {
  const dir = temporaryDir(t);
  // Ten records per segment, seven per buffer: rolls and full buffers fall at different places.
  const opts = { segmentBytes: RECORD_BYTES * 10 + 40, bufferBytes: RECORD_BYTES * 7 };
  const writer = JournalWriter.open(dir, opts);
  appendEvents(writer, 1000, 13);
  writer.close();
  const names = readdirSync(dir).sort();
  t.equal(names.length, 100);
  t.same(names, range(0, 99).map((i) => segmentFileName(1 + 10 * i)));
  for (const name of names) t.equal(statSync(join(dir, name)).size, 10 * RECORD_BYTES, name);
  const read = readAll(dir);
  t.same(read.sequences, range(1, 1000));
  t.equal(read.firstWrong, -1);

  const again = JournalWriter.open(dir, opts);
  t.same(again.recovery, { segments: 100, truncatedBytes: 0 });
  t.equal(again.nextSequence, 1001);
  appendEvents(again, 15);
  again.close();
  t.equal(readdirSync(dir).length, 102);
  const all = readAll(dir);
  t.same(all.sequences, range(1, 1015));
  t.equal(all.firstWrong, -1);
  t.end();
});

t.test('a torn tail at every byte of the last record is cut away and the sequence continues', (t) => {
  const dir = temporaryDir(t);
  const opts = { segmentBytes: RECORD_BYTES * 4 };
  writeJournal(dir, 9, opts); // segments 1-4, 5-8, 9
  const last = join(dir, segmentFileName(9));
  const intact = readBytes(last);
  writeJournal(dir, 1, opts); // sequence 10: the record to tear
  const torn = readBytes(last);
  t.equal(torn.length, 2 * RECORD_BYTES);
  for (let cut = 0; cut < RECORD_BYTES; cut++) {
    writeFileSync(last, torn.subarray(0, RECORD_BYTES + cut));
    const writer = JournalWriter.open(dir, opts);
    t.same(writer.recovery, { segments: 3, truncatedBytes: cut }, `cut ${cut}`);
    t.equal(writer.nextSequence, 10);
    t.equal(writer.durableSequence, 9);
    t.equal(statSync(last).size, RECORD_BYTES, 'the file is cut back to its last intact record');
    appendEvents(writer, 1);
    writer.close();
    const read = readAll(dir);
    t.same(read.sequences, range(1, 10));
    t.equal(read.firstWrong, -1);
    t.same(readBytes(last), torn, 'the rewritten record is the same bytes');
    writeFileSync(last, intact);
  }
  t.end();
});

t.test('other torn tails: a bad CRC on the last record, trailing zeros, a torn first record', (t) => {
  const dir = temporaryDir(t);
  writeJournal(dir, 6);
  const file = firstSegment(dir);
  flipByte(file, 5 * RECORD_BYTES + 50);
  let writer = JournalWriter.open(dir);
  t.equal(writer.recovery.truncatedBytes, RECORD_BYTES);
  t.equal(writer.nextSequence, 6);
  writer.close();

  const fd = openSync(file, 'r+');
  writeSync(fd, new Uint8Array(1000), 0, 1000, 5 * RECORD_BYTES);
  closeSync(fd);
  writer = JournalWriter.open(dir);
  t.equal(writer.recovery.truncatedBytes, 1000, 'zeros after the last record');
  writer.close();
  t.equal(statSync(file).size, 5 * RECORD_BYTES);

  truncateSync(file, 30);
  writer = JournalWriter.open(dir);
  t.same(writer.recovery, { segments: 1, truncatedBytes: 30 });
  t.equal(writer.nextSequence, 1);
  appendEvents(writer, 2);
  writer.close();
  t.same(readAll(dir).sequences, [1, 2]);
  t.end();
});

t.test('damage before intact records is corruption, not a torn tail', (t) => {
  const dir = temporaryDir(t);
  writeJournal(dir, 20);
  const file = firstSegment(dir);
  const pristine = readBytes(file);
  const cases: [string, number][] = [
    ['a payload byte', 5 * RECORD_BYTES + 30],
    ['a length byte', 5 * RECORD_BYTES + 1],
    ['a CRC byte', 5 * RECORD_BYTES + 6],
    ['the second-to-last record', 18 * RECORD_BYTES + 70],
  ];
  for (const [what, at] of cases) {
    flipByte(file, at);
    const offset = at - (at % RECORD_BYTES);
    const expected = { code: 'JOURNAL_CORRUPT', file, offset };
    t.throws(() => JournalWriter.open(dir), expected, `open: ${what}`);
    t.throws(() => readAll(dir), { ...expected, message: new RegExp(`${file} at offset ${offset},`) }, `read: ${what}`);
    writeFileSync(file, pristine);
  }
  const writer = JournalWriter.open(dir);
  t.equal(writer.nextSequence, 21, 'the repaired journal opens');
  writer.close();
  t.end();
});

t.test('damage in a segment that is not the last is corruption', (t) => {
  const dir = temporaryDir(t);
  const opts = { segmentBytes: RECORD_BYTES * 5 };
  writeJournal(dir, 12, opts); // 1-5, 6-10, 11-12
  const middle = join(dir, segmentFileName(6));
  const pristine = readBytes(middle);

  flipByte(middle, 4 * RECORD_BYTES + 20);
  t.throws(() => readAll(dir), { code: 'JOURNAL_CORRUPT', file: middle, offset: 4 * RECORD_BYTES }, 'last record of a middle segment');
  writeFileSync(middle, pristine);

  truncateSync(middle, 4 * RECORD_BYTES + 10);
  t.throws(() => JournalWriter.open(dir, opts), { code: 'JOURNAL_CORRUPT', file: middle }, 'open: short middle segment');
  t.throws(() => readAll(dir), { code: 'JOURNAL_CORRUPT', file: middle }, 'read: short middle segment');
  writeFileSync(middle, pristine);

  renameSync(join(dir, segmentFileName(11)), join(dir, segmentFileName(12)));
  t.throws(() => JournalWriter.open(dir, opts), { code: 'JOURNAL_CORRUPT' }, 'a gap between segments');
  renameSync(join(dir, segmentFileName(12)), join(dir, segmentFileName(11)));

  renameSync(join(dir, segmentFileName(11)), join(dir, segmentFileName(13)));
  writeFileSync(join(dir, segmentFileName(11)), '');
  t.throws(() => JournalWriter.open(dir, opts), { code: 'JOURNAL_CORRUPT', file: join(dir, segmentFileName(11)) }, 'empty middle segment');
  t.end();
});

t.test('a record with an intact CRC but the wrong sequence is corruption', (t) => {
  const dir = temporaryDir(t);
  writeJournal(dir, 3);
  renameSync(firstSegment(dir), join(dir, segmentFileName(7)));
  t.throws(() => JournalWriter.open(dir), { code: 'JOURNAL_CORRUPT', offset: 0 });
  t.end();
});

t.test('one writer per directory; a dead writer’s lock is taken over', (t) => {
  const dir = temporaryDir(t);
  const writer = JournalWriter.open(dir);
  t.throws(() => JournalWriter.open(dir), { code: 'JOURNAL_LOCKED' });
  writer.close();
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  writeFileSync(join(dir, 'journal.lock'), String(dead));
  const again = JournalWriter.open(dir);
  t.equal(readFileSync(join(dir, 'journal.lock'), 'utf8'), String(process.pid));
  again.close();
  t.same(readdirSync(dir), [segmentFileName(1)], 'close removes the lock');
  t.end();
});

t.test('options are validated and a closed writer refuses work', (t) => {
  const dir = temporaryDir(t);
  t.throws(() => JournalWriter.open(dir, { segmentBytes: 79 }), { code: 'JOURNAL_OPTIONS' });
  t.throws(() => JournalWriter.open(dir, { fsyncIntervalMs: -1 }), { code: 'JOURNAL_OPTIONS' });
  t.throws(() => JournalWriter.open(dir, { bufferBytes: 1.5 }), { code: 'JOURNAL_OPTIONS' });
  t.throws(() => JournalWriter.open(dir, { firstSequence: 0 }), { code: 'JOURNAL_OPTIONS' });
  const writer = JournalWriter.open(dir);
  writer.close();
  t.throws(() => writer.append(event, 0), { code: 'JOURNAL_CLOSED' });
  t.throws(() => writer.flush(), { code: 'JOURNAL_CLOSED' });
  t.throws(() => writer.sync(), { code: 'JOURNAL_CLOSED' });
  t.end();
});

/** Descriptors this process holds on files under `dir` (Linux: /proc/self/fd). */
function descriptorsUnder(dir: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir + '/')) count++;
    } catch {
      // the descriptor readdirSync itself held is gone by now
    }
  }
  return count;
}

t.test('background sync: maybeSync returns at once and durability lands through the event loop', async (t) => {
  const dir = temporaryDir(t);
  const reported: number[] = [];
  const writer = JournalWriter.open(dir, {
    backgroundSync: true,
    fsyncIntervalMs: 0,
    segmentBytes: RECORD_BYTES * 4,
    onDurable: (sequence) => reported.push(sequence),
  });
  appendEvents(writer, 3);
  t.equal(writer.maybeSync(0), 0, 'returns before the fdatasync completes');
  t.equal(statSync(firstSegment(dir)).size, 3 * RECORD_BYTES, 'but after the write');
  appendEvents(writer, 3); // sequence 5 rolls to a new segment: a blocking sync of the old one
  t.equal(writer.durableSequence, 4);
  t.equal(writer.maybeSync(1), 6, 'a new segment’s directory entry is synced in the foreground');
  appendEvents(writer, 1);
  t.ok(await until(() => writer.durableSequence === 7, () => writer.maybeSync(2)), 'the background sync lands');
  t.same(reported, [4, 6, 7], 'onDurable sees each advance once, never backwards');
  appendEvents(writer, 1);
  writer.maybeSync(3);
  writer.close(); // with a background sync possibly in flight: its completion must land quietly
  t.ok(await until(() => descriptorsUnder(dir) === 0), 'the sync in flight landed and closed the segments it held open');
  const read = readAll(dir);
  t.same(read.sequences, range(1, 8));
  t.equal(read.firstWrong, -1);
});

t.test('an empty journal starts at firstSequence (a standby continuing after a checkpoint); one with records ignores it', async (t) => {
  const dir = temporaryDir(t);
  const writer = JournalWriter.open(dir, { firstSequence: 101 });
  t.equal(writer.nextSequence, 101, 'the first append takes 101');
  t.equal(writer.durableSequence, 100, 'and everything before it counts as durable (it lives in the checkpoint)');
  appendEvents(writer, 5);
  writer.close();
  t.same(readdirSync(dir).filter((n) => n.endsWith('.log')), [segmentFileName(101)], 'its first segment is named for 101');
  t.same(readAll(dir).sequences, range(101, 105), 'the reader sees 101..105');
  const again = JournalWriter.open(dir, { firstSequence: 7 });
  t.equal(again.nextSequence, 106, 'a reopened journal goes on after its last record');
  again.close();
});
