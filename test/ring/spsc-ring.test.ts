import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { Doorbell } from '../../src/ring/doorbell';
import { BackoffIdleStrategy, Parkable, hasSpareCore } from '../../src/ring/idle-strategy';
import { HEAD_OFFSET, HEADER_LENGTH, PADDING_TYPE, TAIL_OFFSET, ringByteLength } from '../../src/ring/ring-descriptor';
import { RingGroup } from '../../src/ring/ring-group';
import { SeqlockTable } from '../../src/ring/seqlock-table';
import { BACK_PRESSURED, RecordHandler, SpscRing } from '../../src/ring/spsc-ring';
import type { StressData, StressReport } from './fixtures/ring-stress-worker';

const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);

class Recorder implements RecordHandler {
  types: number[] = [];
  offsets: number[] = [];
  lengths: number[] = [];
  onRecord(type: number, offset: number, length: number): void {
    this.types.push(type);
    this.offsets.push(offset);
    this.lengths.push(length);
  }
}

/** Producer and consumer views of one ring, as two threads would build them. */
function pair(capacity: number): { producer: SpscRing; consumer: SpscRing } {
  const sab = SpscRing.allocate(capacity);
  return { producer: new SpscRing(sab), consumer: new SpscRing(sab) };
}

function push(ring: SpscRing, length: number, type: number): number {
  const offset = ring.tryClaim(length, type);
  if (offset !== BACK_PRESSURED) ring.commit();
  return offset;
}

t.test('allocation checks the capacity and the buffer', async (t) => {
  t.equal(SpscRing.allocate(1024).byteLength, ringByteLength(1024));
  t.throws(() => SpscRing.allocate(1000), { code: 'ERR_RING_CAPACITY' });
  t.throws(() => SpscRing.allocate(32), { code: 'ERR_RING_CAPACITY' });
  t.throws(() => new SpscRing(new SharedArrayBuffer(HEADER_LENGTH + 100)), { code: 'ERR_RING_CAPACITY' });
  t.throws(() => new SpscRing(new ArrayBuffer(HEADER_LENGTH + 1024) as unknown as SharedArrayBuffer), { code: 'ERR_RING_BUFFER' });
  const ring = new SpscRing(SpscRing.allocate(1024));
  t.equal(ring.capacity, 1024);
  t.equal(ring.maxPayloadLength, 504);
  t.equal(ring.bytes.length, ring.i32.length * 4);
  t.equal(ring.bytes.length, ring.f64.length * 8);
});

t.test('records arrive in order with their type, length and payload', async (t) => {
  const { producer, consumer } = pair(1024);
  const lengths = [0, 1, 7, 8, 9, 64, 100];
  for (let i = 0; i < lengths.length; i++) {
    const offset = producer.tryClaim(lengths[i], 100 + i);
    t.equal(offset % 8, 0, 'payload is 8-aligned');
    producer.bytes.fill(i + 1, offset, offset + lengths[i]);
    producer.commit();
  }
  const r = new Recorder();
  t.equal(consumer.read(r, 100), lengths.length);
  t.same(r.types, [100, 101, 102, 103, 104, 105, 106]);
  t.same(r.lengths, lengths);
  for (let i = 0; i < lengths.length; i++) {
    const payload = consumer.bytes.subarray(r.offsets[i], r.offsets[i] + lengths[i]);
    t.ok(payload.every((b) => b === i + 1), `payload ${i} intact`);
  }
  t.ok(consumer.isEmpty());
  t.equal(consumer.size(), 0);
});

t.test('read honours its limit and readOne stops after one record', async (t) => {
  const { producer, consumer } = pair(1024);
  for (let i = 0; i < 5; i++) push(producer, 16, i);
  const r = new Recorder();
  t.equal(consumer.read(r, 2), 2);
  t.equal(consumer.readOne(r), true);
  t.same(r.types, [0, 1, 2]);
  t.equal(consumer.size(), 2 * 24, 'released exactly the records handed over');
  t.equal(consumer.read(r, 10), 2);
  t.equal(consumer.readOne(r), false);
  t.equal(consumer.read(r, 10), 0);
  t.same(r.types, [0, 1, 2, 3, 4]);
});

t.test('tryClaim reports back-pressure when full and succeeds once space is released', async (t) => {
  const { producer, consumer } = pair(256);
  let accepted = 0;
  while (push(producer, 24, 1) !== BACK_PRESSURED) accepted++;
  t.equal(accepted, 8, '8 records of 32 bytes fill 256');
  t.equal(producer.size(), 256);
  t.equal(producer.tryClaim(0, 1), BACK_PRESSURED, 'not even an empty record fits');
  t.ok(consumer.readOne(new Recorder()));
  t.not(push(producer, 24, 1), BACK_PRESSURED, 'space released by the consumer is reused');
  t.equal(producer.tryClaim(24, 1), BACK_PRESSURED);
});

t.test('a record that does not fit before the end goes to the start behind a padding record', async (t) => {
  const { producer, consumer } = pair(256);
  push(producer, 96, 1);
  push(producer, 96, 2); // tail at 208: 48 bytes left before the end
  const r = new Recorder();
  t.equal(consumer.read(r, 10), 2);
  const offset = push(producer, 56, 3); // needs 64 bytes
  t.equal(offset, HEADER_LENGTH + 8, 'record placed at the start of the data area');
  t.equal(producer.i32[(HEADER_LENGTH + 208) >> 2], 40, 'padding covers the 48 bytes to the end');
  t.equal(producer.i32[(HEADER_LENGTH + 212) >> 2], PADDING_TYPE);
  t.equal(consumer.size(), 48 + 64);
  const after = new Recorder();
  t.equal(consumer.read(after, 10), 1, 'padding is skipped, not delivered');
  t.same(after.types, [3]);
  t.same(after.offsets, [HEADER_LENGTH + 8]);
  t.ok(consumer.isEmpty());
});

t.test('wrapping needs room for the padding too', async (t) => {
  const { producer, consumer } = pair(256);
  push(producer, 96, 1);
  push(producer, 96, 2);
  consumer.readOne(new Recorder()); // head at 104, tail at 208: 152 free, 48 of them at the end
  t.equal(producer.tryClaim(112, 3), BACK_PRESSURED, '48 padding + 120 record > 152 free');
  t.not(producer.tryClaim(96, 3), BACK_PRESSURED, '48 padding + 104 record fits');
});

t.test('oversize claims and reserved types are programming errors', async (t) => {
  const { producer } = pair(256);
  t.equal(producer.maxPayloadLength, 120, 'max record is capacity / 2 = 128 bytes with its header');
  t.throws(() => producer.tryClaim(121, 1), { code: 'ERR_RING_RECORD_LENGTH' });
  t.throws(() => producer.tryClaim(-1, 1), { code: 'ERR_RING_RECORD_LENGTH' });
  t.throws(() => producer.tryClaim(1.5, 1), { code: 'ERR_RING_RECORD_LENGTH' });
  t.throws(() => producer.tryClaim(NaN, 1), { code: 'ERR_RING_RECORD_LENGTH' });
  t.throws(() => producer.tryClaim(8, PADDING_TYPE), { code: 'ERR_RING_RECORD_TYPE' });
  t.throws(() => producer.tryClaim(8, 2 ** 31), { code: 'ERR_RING_RECORD_TYPE' });
  t.throws(() => producer.tryClaim(8, 0.5), { code: 'ERR_RING_RECORD_TYPE' });
  t.ok(producer.isEmpty(), 'a rejected claim leaves nothing behind');
});

t.test('a maximum-size record fits into an empty ring at every position', async (t) => {
  const { producer, consumer } = pair(256);
  const r = new Recorder();
  let failures = 0;
  for (let shift = 0; shift < 256 / 8; shift++) {
    if (push(producer, producer.maxPayloadLength, 1) === BACK_PRESSURED) failures++;
    consumer.read(r, 10);
    push(producer, 0, 2); // moves the cursor on by 8 bytes
    consumer.read(r, 10);
  }
  t.equal(failures, 0);
  t.equal(r.types.length, 64);
});

t.test('cursors wrap modulo 2^32', async (t) => {
  const sab = SpscRing.allocate(256);
  const start = -64; // 2^32 - 64 as an int32; 32-byte records then never need padding
  const header = new Int32Array(sab);
  header[TAIL_OFFSET >> 2] = start;
  header[HEAD_OFFSET >> 2] = start;
  const producer = new SpscRing(sab);
  const consumer = new SpscRing(sab);
  const r = new Recorder();
  for (let i = 0; i < 100; i++) {
    const offset = producer.tryClaim(20, i);
    producer.i32[offset >> 2] = i * 3;
    producer.commit();
    t.equal(consumer.size(), 32, `size exact at step ${i}`);
    consumer.read(r, 1);
    if (producer.i32[r.offsets[i] >> 2] !== i * 3) t.fail(`payload ${i}`);
  }
  t.same(r.types, Array.from({ length: 100 }, (_, i) => i));
  t.ok(Atomics.load(header, TAIL_OFFSET >> 2) > 0, 'tail went through 2^32');
});

t.test('lazily committed records appear together on publish', async (t) => {
  const { producer, consumer } = pair(1024);
  for (let i = 0; i < 3; i++) {
    producer.tryClaim(8, i);
    producer.commitLazy();
  }
  t.ok(consumer.isEmpty(), 'nothing visible before publish');
  t.equal(consumer.read(new Recorder(), 10), 0);
  producer.publish();
  t.equal(consumer.read(new Recorder(), 10), 3);
  producer.tryClaim(8, 9); // claimed, never committed
  producer.publish();
  t.ok(consumer.isEmpty(), 'an uncommitted claim is not published');
});

t.test('park announces the sleep, publish rings the bell', async (t) => {
  const { producer, consumer } = pair(1024);
  t.equal(consumer.park(), true, 'empty: may sleep');
  push(producer, 8, 1);
  t.equal(consumer.wait(1000), 'not-equal', 'the publication after park moved the signal');
  t.equal(consumer.park(), false, 'not empty: must not sleep');
  consumer.read(new Recorder(), 10);
  t.equal(consumer.park(), true);
  t.equal(consumer.wait(1), 'timed-out', 'no publication, no wake');
});

t.test('a full producer parks on ring.space and is rung by the consumer', async (t) => {
  const { producer, consumer } = pair(256);
  while (push(producer, 120, 1) !== BACK_PRESSURED);
  t.equal(producer.space.park(), true, 'nothing released yet: may sleep');
  consumer.readOne(new Recorder());
  t.equal(producer.space.wait(1000), 'not-equal', 'the release after park moved the signal');
  t.equal(producer.space.park(), false, 'released since BACK_PRESSURED: retry instead');
});

t.test('the idle strategy spins, then parks, and resets on work', async (t) => {
  t.throws(() => new BackoffIdleStrategy(-1, 1), { code: 'ERR_IDLE_STRATEGY' });
  t.throws(() => new BackoffIdleStrategy(1, 0), { code: 'ERR_IDLE_STRATEGY' });
  const calls: string[] = [];
  let empty = true;
  const target: Parkable = {
    park: () => (calls.push('park'), empty),
    wait: (ms) => (calls.push(`wait ${ms}`), 'ok'),
  };
  const idle = new BackoffIdleStrategy(2, 7);
  idle.idle(0, target);
  idle.idle(0, target);
  t.same(calls, [], 'spins first');
  idle.idle(0, target);
  t.same(calls, ['park', 'wait 7']);
  empty = false;
  idle.idle(0, target);
  t.same(calls, ['park', 'wait 7', 'park'], 'no sleep when the re-check finds work');
  idle.idle(3, target);
  idle.idle(0, target);
  t.equal(calls.length, 3, 'work resets the spin count');
});

t.test('the idle strategy parks for its bound each time, after work as after a long quiet', async (t) => {
  const waits: number[] = [];
  const target: Parkable = { park: () => true, wait: (ms) => (waits.push(ms), 'timed-out') };
  const idle = new BackoffIdleStrategy(0, 8);
  for (let i = 0; i < 3; i++) idle.idle(0, target);
  idle.idle(1, target);
  idle.idle(0, target);
  t.same(waits, [8, 8, 8, 8], 'no spin, no shorter first park');
});

t.test('without a spare core the idle strategy stops spinning after a long idle period', async (t) => {
  const calls: string[] = [];
  const target: Parkable = { park: () => (calls.push('park'), true), wait: () => 'timed-out' };
  const idle = new BackoffIdleStrategy(2, 4, false);
  idle.idle(0, target);
  idle.idle(0, target);
  t.same(calls, [], 'spins at first');
  idle.idle(0, target);
  t.same(calls, ['park']);
  // An idle period of a whole millisecond (ten times what a spin is worth): the clock moved.
  const from = performance.now();
  while (performance.now() - from < 1);
  idle.idle(5, target);
  idle.idle(0, target);
  t.same(calls, ['park', 'park'], 'parks at once after it');
});

t.test('hasSpareCore counts the cores against the threads that poll', async (t) => {
  t.equal(hasSpareCore(0), true);
  t.equal(hasSpareCore(availableParallelism()), false);
});

t.test('two threads: millions of variable-length records, wrapping, parking both ways', async (t) => {
  const sab = SpscRing.allocate(4096);
  const slowEvery = 256;
  const base: Omit<StressData, 'role'> = {
    sab,
    records: 3_000_000,
    slowConsumerFrom: 800_000,
    slowProducerFrom: 800_000 + 100 * slowEvery,
    lazyFrom: 800_000 + 200 * slowEvery,
    slowEvery,
    lazyBatch: 16,
  };
  const consumer = new Worker(fixture('ring-stress-worker.js'), { workerData: { ...base, role: 'consumer' } });
  const producer = new Worker(fixture('ring-stress-worker.js'), { workerData: { ...base, role: 'producer' } });
  const produced = once(producer, 'message');
  const [c] = (await once(consumer, 'message')) as [StressReport];
  t.equal(c.error, null, 'every record checked: sequence, type, length, checksum');
  if (c.error !== null) {
    await producer.terminate(); // it would wait for space forever
    return;
  }
  const [p] = (await produced) as [StressReport];
  t.equal(c.records, base.records, 'no record lost');
  t.equal(c.checksum, p.checksum, 'checksums over all payloads agree');
  t.ok(p.wraps > 10_000, `the ring wrapped ${p.wraps} times`);
  t.ok(p.woken > 0, `producer slept for space and was woken ${p.woken} times`);
  t.ok(c.woken > 0, `consumer slept for records and was woken ${c.woken} times`);
  t.equal(p.timedOut + c.timedOut, 0, 'no sleep ran into its timeout: no lost wake-up');
  t.ok(new SpscRing(sab).isEmpty());
});

t.test('a doorbell wakes one main thread sleeping on several rings', async (t) => {
  const bell = Doorbell.allocate();
  const rings = [SpscRing.allocate(1024), SpscRing.allocate(1024)];
  const doorbell = new Doorbell(bell);
  const consumers = rings.map((sab) => new SpscRing(sab));
  const group = new RingGroup(doorbell, consumers);
  const worker = new Worker(fixture('doorbell-producer.js'), { workerData: { rings, bell, target: 1 } });
  t.teardown(() => worker.terminate());
  t.equal((await once(worker, 'message'))[0], 'ready');
  const r = new Recorder();
  for (let round = 1; round <= 3; round++) {
    t.equal(group.park(), true, 'all rings empty');
    const woken = group.waitAsync(120_000); // generous: only the ring may end it, however busy the machine
    t.ok(woken instanceof Promise, 'nothing rung yet: a real wait');
    worker.postMessage(round * 1.5);
    t.equal(await woken, 'ok', `round ${round}: woken by the other thread, not by the timeout`);
    t.equal(consumers[0].read(r, 10) + consumers[1].read(r, 10), 1);
    t.equal(consumers[1].f64[r.offsets[round - 1] >> 3], round * 1.5);
    await once(worker, 'message');
  }
});

t.test('doorbell: a ring between park and waitAsync leaves nothing to wait for', async (t) => {
  const bell = Doorbell.allocate();
  const sleeper = new Doorbell(bell);
  const waker = new Doorbell(bell);
  waker.ring();
  const v = sleeper.park();
  t.ok(sleeper.waitAsync(v, 10) instanceof Promise, 'not rung since park');
  waker.ring();
  t.equal(sleeper.waitAsync(v, 1000), undefined);
  t.equal(sleeper.wait(v, 1000), 'not-equal');
  waker.ring();
  t.equal(sleeper.waitAsync(sleeper.park(), 10) instanceof Promise, true, 'ring() without a sleeper does not bump');
  t.throws(() => new Doorbell(bell, 62), { code: 'ERR_RING_BUFFER' });
});

t.test('a ring built with a doorbell rings it instead of its own bell', async (t) => {
  const sab = SpscRing.allocate(1024);
  const doorbell = new Doorbell(Doorbell.allocate());
  const producer = new SpscRing(sab, doorbell);
  const consumer = new SpscRing(sab, doorbell);
  const ownBell = new SpscRing(sab);
  t.equal(ownBell.park(), true);
  t.equal(consumer.park(), true);
  push(producer, 8, 1);
  t.equal(consumer.wait(1000), 'not-equal', 'the shared doorbell moved');
  t.equal(ownBell.wait(1), 'timed-out', 'the ring header bell did not');
});

t.test('seqlock table layout and single-thread use', async (t) => {
  t.equal(SeqlockTable.byteLength(3, 7), 3 * 64);
  t.equal(SeqlockTable.byteLength(2, 8), 2 * 128);
  t.throws(() => SeqlockTable.byteLength(0, 4), { code: 'ERR_SEQLOCK_LAYOUT' });
  t.throws(() => new SeqlockTable(new SharedArrayBuffer(64), 2, 7), { code: 'ERR_SEQLOCK_LAYOUT' });
  const table = new SeqlockTable(new SharedArrayBuffer(SeqlockTable.byteLength(3, 10)), 3, 10);
  t.same([0, 1, 2].map((s) => table.base(s) * 8), [8, 136, 264], '8 + 80 bytes round up to 128-byte slots, words after the version');
  const versions = new Int32Array(table.f64.buffer);
  table.beginWrite(1);
  t.equal(versions[128 / 4] & 1, 1, 'odd while writing');
  for (let w = 0; w < 10; w++) table.f64[table.base(1) + w] = w;
  table.endWrite(1);
  const dst = new Float64Array(10);
  t.equal(table.read(1, dst, 4), 2);
  t.same(Array.from(dst), [0, 1, 2, 3, 0, 0, 0, 0, 0, 0]);
  t.equal(table.read(0, dst, 1), 0, 'untouched slot');
  t.throws(() => table.read(1, dst, 11), { code: 'ERR_SEQLOCK_WORDS' });
  t.throws(() => table.read(1, new Float64Array(2), 3), { code: 'ERR_SEQLOCK_WORDS' });
});

t.test('seqlock: a reader never sees a torn record under a concurrent writer', async (t) => {
  const slots = 4;
  const words = 48;
  const sab = new SharedArrayBuffer(SeqlockTable.byteLength(slots, words));
  const stop = new SharedArrayBuffer(4);
  const writer = new Worker(fixture('seqlock-writer.js'), { workerData: { sab, slots, words, stop } });
  await once(writer, 'message');
  const table = new SeqlockTable(sab, slots, words);
  const dst = new Float64Array(words);
  const lastVersion = new Array<number>(slots).fill(0);
  let torn = 0;
  let odd = 0;
  let backwards = 0;
  let changes = 0;
  // Until the writer has visibly moved on a few thousand times (how often the two threads
  // overlap depends on the scheduler), with a cap so the test ends whatever happens.
  for (let i = 0; i < 2_000_000 && changes < 5000; i++) {
    const slot = i % slots;
    const version = table.read(slot, dst, words);
    if (version & 1) odd++;
    if (version < lastVersion[slot]) backwards++;
    if (version !== lastVersion[slot]) changes++;
    lastVersion[slot] = version;
    const first = dst[0];
    for (let w = 1; w < words; w++) {
      if (dst[w] !== first) {
        torn++;
        break;
      }
    }
    if (first % slots !== slot && first !== 0) torn++;
  }
  Atomics.store(new Int32Array(stop), 0, 1);
  const [written] = (await once(writer, 'message')) as [number];
  t.equal(torn, 0, 'every copy is one whole record');
  t.equal(odd, 0, 'only even versions are returned');
  t.equal(backwards, 0, 'versions only move forward');
  t.ok(changes > 0, `the writer ran during the reads: ${changes} new versions seen, ${written} writes`);
});
