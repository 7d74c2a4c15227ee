import t from 'tap';
import { claimAfterWaiting, SpaceWaiter } from '../../src/ring/claim-or-wait';
import { BACK_PRESSURED, RecordHandler, SpscRing } from '../../src/ring/spsc-ring';

/** Counts what it reads; as the waiter, it is the consumer freeing space on its second wait. */
class DrainOnSecondWait implements SpaceWaiter, RecordHandler {
  waits = 0;
  read = 0;
  constructor(private readonly producer: SpscRing, private readonly consumer: SpscRing) {}
  beforeWait(): void {
    this.waits++;
    this.producer.publish();
    if (this.waits === 2) this.consumer.read(this, 1);
  }
  onRecord(): void {
    this.read++;
  }
}

t.test('a full ring: the waiter publishes before each sleep, and the claim succeeds once space is freed', async (t) => {
  const sab = SpscRing.allocate(256);
  const producer = new SpscRing(sab);
  const consumer = new SpscRing(sab);
  let records = 0;
  while (producer.tryClaim(56, 7) !== BACK_PRESSURED) {
    producer.commitLazy();
    records++;
  }
  t.equal(records, 4, 'four 64-byte records fill 256 bytes');
  t.equal(consumer.read({ onRecord() {} }, 0), 0, 'nothing published yet');
  const waiter = new DrainOnSecondWait(producer, consumer);
  const offset = claimAfterWaiting(producer, 56, 7, waiter);
  t.not(offset, BACK_PRESSURED);
  t.equal(waiter.waits, 2, 'it slept once on the full ring, then claimed after the consumer read one');
  t.equal(waiter.read, 1);
});
