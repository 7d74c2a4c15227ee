import t from 'tap';
import { OutMessage } from '../../src/distribution/consumer';
import { RecentMessages, RESUME_REPLAY, RESUME_SEQUENCE_AHEAD, RESUME_TOO_OLD, RESUME_UNKNOWN_STREAM } from '../../src/distribution/recent-messages';
import { StreamTable } from '../../src/distribution/streams';
import { STREAMS, STREAM_TRADES } from '../../src/model/streams';
import { loadConfig } from '../../src/config';
import { pickInstruments } from '../../src/app/instruments';

const instruments = pickInstruments(loadConfig([], {}));
const streams = new StreamTable(instruments);
const L2 = streams.index(0, 2);
const TRADES = streams.index(0, STREAM_TRADES);

/** A message of `length` bytes, each byte the sequence's low byte, as the Distributor hands it out. */
function message(key: number, sequence: number, length: number): OutMessage {
  const m = new OutMessage();
  const buffer = new Uint8Array(length + 16).fill(sequence & 0xff);
  m.key = key;
  m.stream = key % STREAMS;
  m.symbol = Math.floor(key / STREAMS);
  m.sequence = sequence;
  m.reset(buffer, 8, 8 + length);
  return m;
}

function replayed(recent: RecentMessages, key: number, after: number): { sequence: number; length: number; ok: boolean }[] {
  const out: { sequence: number; length: number; ok: boolean }[] = [];
  recent.replay(key, after, (bytes, sequence) => out.push({ sequence, length: bytes.length, ok: bytes.every((b) => b === (sequence & 0xff)) }));
  return out;
}

t.test('a stream is covered from its snapshot while it flows; each status of a resume point', async (t) => {
  const recent = new RecentMessages(streams, 8, 4096);
  recent.onRecord(message(L2, 5, 40));
  t.equal(recent.check(L2, 5), RESUME_UNKNOWN_STREAM, 'messages of a stream not started are not kept');
  recent.started(L2, 10, false);
  for (let s = 11; s <= 14; s++) recent.onRecord(message(L2, s, 40));
  t.equal(recent.check(L2, 10), RESUME_REPLAY, 'from the snapshot on');
  t.equal(recent.check(L2, 9), RESUME_TOO_OLD, 'before the snapshot');
  t.equal(recent.check(L2, 15), RESUME_SEQUENCE_AHEAD, 'past the newest');
  t.equal(recent.check(L2, 14), RESUME_REPLAY, 'at the newest: nothing to replay');
  t.equal(recent.countAfter(L2, 12), 2);
  t.same(replayed(recent, L2, 12).map((r) => r.sequence), [13, 14]);
  t.ok(replayed(recent, L2, 10).every((r) => r.ok && r.length === 40), 'the bytes come back as they went in');
  recent.started(L2, 14, false);
  t.equal(recent.check(L2, 10), RESUME_REPLAY, "another follower's snapshot changes nothing");
  recent.started(L2, 20, true);
  t.equal(recent.check(L2, 14), RESUME_TOO_OLD, 'a book reset restarts coverage at its snapshot');
  recent.stopped(L2);
  t.equal(recent.check(L2, 20), RESUME_UNKNOWN_STREAM, 'a stopped stream has a hole from then on');
  recent.onRecord(message(L2, 21, 40));
  t.equal(recent.countAfter(L2, 0), 0, 'records of a stopped stream are not kept');
});

t.test('trades are covered from the first one seen, exclusive', async (t) => {
  const recent = new RecentMessages(streams, 8, 4096);
  recent.onRecord(message(TRADES, 7, 30));
  recent.onRecord(message(TRADES, 7, 30));
  recent.onRecord(message(TRADES, 9, 30));
  t.equal(recent.check(TRADES, 6), RESUME_TOO_OLD, 'trades of that event printed before may be missing');
  t.same(replayed(recent, TRADES, 7).map((r) => r.sequence), [9]);
});

t.test('the count limit evicts the oldest and moves the start of coverage', async (t) => {
  const recent = new RecentMessages(streams, 4, 4096);
  recent.started(L2, 0, false);
  for (let s = 1; s <= 10; s++) recent.onRecord(message(L2, s, 10));
  t.same(replayed(recent, L2, 0).map((r) => r.sequence), [7, 8, 9, 10]);
  t.equal(recent.check(L2, 5), RESUME_TOO_OLD);
  t.equal(recent.check(L2, 6), RESUME_REPLAY, 'after the last evicted one');
  t.equal(recent.evicted, 6);
});

t.test('the byte limit: messages wrap to the start of the area, evicting what they overwrite', async (t) => {
  const recent = new RecentMessages(streams, 1000, 1024);
  recent.started(L2, 0, false);
  // Lengths that do not divide the area, so the wrap leaves tails unused.
  for (let s = 1; s <= 500; s++) {
    recent.onRecord(message(L2, s, 100 + (s % 7) * 13));
    const kept = replayed(recent, L2, 0);
    const bytes = kept.reduce((n, r) => n + r.length, 0);
    if (bytes > 1024 || !kept.every((r) => r.ok) || kept[kept.length - 1].sequence !== s) {
      t.fail(`after ${s}: ${kept.length} messages, ${bytes} bytes, intact ${kept.every((r) => r.ok)}`);
      return;
    }
    // Contiguous: every sequence after the start of coverage is there.
    const first = kept[0].sequence;
    if (recent.check(L2, first - 1) !== RESUME_REPLAY || recent.check(L2, first - 2) !== RESUME_TOO_OLD) {
      t.fail(`after ${s}: coverage does not start right before ${first}`);
      return;
    }
    if (kept.some((r, i) => r.sequence !== first + i)) {
      t.fail(`after ${s}: a hole`);
      return;
    }
  }
  t.ok(replayed(recent, L2, 0).length >= 5, 'the area holds several messages');
  t.pass('500 messages: within the byte limit, intact, contiguous');
});

t.test('a message larger than the whole area restarts coverage after it', async (t) => {
  const recent = new RecentMessages(streams, 16, 1024);
  recent.started(L2, 0, false);
  recent.onRecord(message(L2, 1, 100));
  recent.onRecord(message(L2, 2, 2000));
  t.equal(recent.check(L2, 1), RESUME_TOO_OLD);
  t.equal(recent.check(L2, 2), RESUME_REPLAY);
  recent.onRecord(message(L2, 3, 100));
  t.same(replayed(recent, L2, 2).map((r) => r.sequence), [3]);
});
