import t from 'tap';
import { EVENT_WORDS, W_TIMESTAMP } from '../../src/model/events';
import { RECORD_BYTES } from '../../src/journal/journal-layout';
import { JournalReader } from '../../src/journal/journal-reader';
import { BLOCK_RECORDS, JournalTimeIndex } from '../../src/journal/journal-time-index';
import { JournalWriter } from '../../src/journal/journal-writer';
import { Collector, eventFor, temporaryDir } from './journal-fixtures';

const event = new Float64Array(EVENT_WORDS);
const SEGMENT_RECORDS = 3 * BLOCK_RECORDS + 100;

/** Times grow 1 µs a record, except every 4999th, stamped back at the start (out of order, as sources may). */
function stamp(sequence: number): number {
  return sequence % 4999 === 0 ? 1_000_000 : 1_000_000 + sequence;
}

function append(writer: JournalWriter, count: number): void {
  for (let i = 0; i < count; i++) {
    eventFor(writer.nextSequence, event, 0);
    event[W_TIMESTAMP] = stamp(writer.nextSequence);
    writer.append(event, 0);
  }
  writer.flush();
}

function viaReader(dir: string, from: number, until: number): number[] {
  const c = new Collector();
  new JournalReader(dir).read(c, { fromSequence: from, untilTime: until });
  return c.sequences;
}

function viaIndex(index: JournalTimeIndex, from: number, until: number): { sequences: number[]; read: number } {
  const c = new Collector();
  const before = index.recordsRead;
  const n = index.read(c, from, until);
  if (n !== c.sequences.length) throw new Error(`read returned ${n}, delivered ${c.sequences.length}`);
  return { sequences: c.sequences, read: index.recordsRead - before };
}

t.test('the indexed read hands exactly what the full filter hands, reading only blocks that can hold it', (t) => {
  const dir = temporaryDir(t);
  const writer = JournalWriter.open(dir, { segmentBytes: RECORD_BYTES * SEGMENT_RECORDS });
  append(writer, 5 * SEGMENT_RECORDS + 77);
  const index = new JournalTimeIndex(dir);
  const total = writer.nextSequence - 1;
  for (const [from, until] of [
    [1, stamp(10)],
    [1, stamp(2500)],
    [2000, stamp(4200)],
    [SEGMENT_RECORDS + 1, stamp(SEGMENT_RECORDS + 5)],
    [9000, stamp(total)],
    [1, 999_999],
    [5000, stamp(4000)],
  ]) {
    const expected = viaReader(dir, from, until);
    const got = viaIndex(index, from, until);
    t.same(got.sequences, expected, `from ${from} until ${until}: ${expected.length} events`);
    // Besides the blocks [from, until] spans, only blocks holding an early-stamped straggler are read.
    const span = Math.max(0, Math.min(until - 1_000_000, total) - from + 1);
    t.ok(got.read <= span + 2 * BLOCK_RECORDS + Math.ceil(total / 4999) * BLOCK_RECORDS, `from ${from} until ${until}: ${got.read} records read of ${total}`);
  }
  const early = viaIndex(index, 1, stamp(100));
  t.ok(early.read < total / 3, `a time near the start reads ${early.read} of ${total} records, not the journal after it`);

  // The live segment grows and retention deletes old ones: the index follows both.
  append(writer, 2 * SEGMENT_RECORDS);
  const grown = writer.nextSequence - 1;
  t.same(viaIndex(index, grown - 50, stamp(grown)).sequences, viaReader(dir, grown - 50, stamp(grown)), 'events appended since the last use');
  writer.close();
  t.end();
});
