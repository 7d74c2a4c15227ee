import { Doorbell, WaitResult } from './doorbell';
import type { Parkable } from './idle-strategy';
import {
  DATA_BELL_OFFSET,
  HEAD_OFFSET,
  HEADER_LENGTH,
  MAX_CAPACITY,
  MIN_CAPACITY,
  PADDING_TYPE,
  RECORD_HEADER_LENGTH,
  SPACE_BELL_OFFSET,
  TAIL_OFFSET,
  isPowerOfTwo,
  maxPayloadLength,
  recordLength,
  ringByteLength,
} from './ring-descriptor';
import { ERR_RING_BUFFER, ERR_RING_CAPACITY, ERR_RING_RECORD_LENGTH, ERR_RING_RECORD_TYPE, RingError } from './ring-error';

// No re-exports from this module: TypeScript compiles one to a getter on `exports`, which drops
// the exports object to dictionary mode, and then every BACK_PRESSURED that optimized code reads
// from here is a LoadIC call (claim() paid ~290 instructions per LOBSTER event for it).

/** tryClaim's answer when the ring has no room for the record now. */
export const BACK_PRESSURED = -2;

/** Receives records in order. `offset` is the payload's byte offset into the ring's buffer. */
export interface RecordHandler {
  onRecord(type: number, offset: number, length: number): void;
}

const TAIL_INDEX = TAIL_OFFSET >> 2;
const HEAD_INDEX = HEAD_OFFSET >> 2;
const DATA_INDEX = HEADER_LENGTH >> 2;

/**
 * A single-producer single-consumer ring of variable-length records in a SharedArrayBuffer
 * (layout in ring-descriptor.ts; design after Agrona's OneToOneRingBuffer). Each thread builds
 * its own SpscRing over the shared buffer and uses one side of it: exactly one thread calls the
 * producer methods, exactly one other thread the consumer methods.
 *
 * Publication: the producer writes header and payload with plain stores, then Atomics.store
 * of tail; the consumer Atomics.load's tail and then reads with plain loads. Atomics are
 * sequentially consistent and synchronize, so everything written before the store is visible
 * after the load. Space goes back the same way through head. Each side keeps its own cursor in
 * a field and touches the shared cursors once per batch: the producer caches head and reloads
 * it only when the cached value says the ring is full.
 */
export class SpscRing implements Parkable {
  static allocate(capacityBytes: number): SharedArrayBuffer {
    checkCapacity(capacityBytes);
    return new SharedArrayBuffer(ringByteLength(capacityBytes));
  }

  /** Views over the whole buffer: payload offsets index any of them (>> 2, >> 3). */
  readonly bytes: Uint8Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  /** Size of the data area in bytes. */
  readonly capacity: number;
  /** The largest payload tryClaim accepts: capacity / 2 - 8. */
  readonly maxPayloadLength: number;
  /** The producer's Parkable: sleeps until the consumer releases space after BACK_PRESSURED. */
  readonly space: SpaceParking;

  private readonly mask: number;
  private readonly dataBell: Doorbell;
  private readonly spaceBell: Doorbell;

  // Producer state.
  private tail: number;
  private claimTail: number;
  private publishedTail: number;
  private headCache: number;

  // Consumer state.
  private head: number;
  private parkValue: number;

  /**
   * `doorbell`, when given, is rung by publish() instead of the ring's own data bell, so that
   * one consumer can sleep on many rings (see RingGroup). Give it on the producer's side.
   */
  constructor(sab: SharedArrayBuffer, doorbell?: Doorbell) {
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new RingError(ERR_RING_BUFFER, 'a ring needs a SharedArrayBuffer from SpscRing.allocate');
    }
    const capacity = sab.byteLength - HEADER_LENGTH;
    checkCapacity(capacity);
    this.bytes = new Uint8Array(sab);
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
    this.capacity = capacity;
    this.maxPayloadLength = maxPayloadLength(capacity);
    this.mask = capacity - 1;
    this.dataBell = doorbell ?? new Doorbell(sab, DATA_BELL_OFFSET);
    this.spaceBell = new Doorbell(sab, SPACE_BELL_OFFSET);
    this.space = new SpaceParking(this.i32, this.spaceBell);
    this.tail = Atomics.load(this.i32, TAIL_INDEX);
    this.claimTail = this.tail;
    this.publishedTail = this.tail;
    this.headCache = Atomics.load(this.i32, HEAD_INDEX);
    this.head = this.headCache;
    this.parkValue = 0;
  }

  /**
   * Producer: reserves room for a record of `length` payload bytes and writes its header.
   * Returns the payload's byte offset in the buffer (8-aligned), or BACK_PRESSURED when the
   * ring is full. The record stays invisible until commit() (or commitLazy() and publish());
   * claiming again before committing abandons the previous claim.
   * Throws RingError on a length outside 0..maxPayloadLength or a type that is not an int32
   * other than PADDING_TYPE: those are programming errors, not back-pressure.
   */
  tryClaim(length: number, type: number): number {
    if (length >>> 0 !== length || length > this.maxPayloadLength || (type | 0) !== type || type === PADDING_TYPE) {
      throw claimError(length, type, this.maxPayloadLength);
    }
    const capacity = this.capacity;
    const recordBytes = recordLength(length);
    const tail = this.tail;
    const index = tail & this.mask;
    const toEnd = capacity - index;
    const padding = recordBytes > toEnd ? toEnd : 0;
    const required = padding + recordBytes;
    if (capacity - ((tail - this.headCache) >>> 0) < required) {
      const head = Atomics.load(this.i32, HEAD_INDEX);
      this.headCache = head;
      if (capacity - ((tail - head) >>> 0) < required) {
        this.space.headWhenFull = head;
        return BACK_PRESSURED;
      }
    }
    const i32 = this.i32;
    let at = DATA_INDEX + (index >> 2);
    if (padding !== 0) {
      i32[at] = padding - RECORD_HEADER_LENGTH;
      i32[at + 1] = PADDING_TYPE;
      at = DATA_INDEX;
    }
    i32[at] = length;
    i32[at + 1] = type;
    this.claimTail = (tail + required) | 0;
    return (at << 2) + RECORD_HEADER_LENGTH;
  }

  /** Producer: makes the claimed record visible and wakes a sleeping consumer. */
  commit(): void {
    this.tail = this.claimTail;
    this.publish();
  }

  /**
   * Producer: adds the claimed record to the batch that the next publish() makes visible.
   * A producer that then gets BACK_PRESSURED must publish() before it waits for space, or it
   * may wait for a consumer that cannot see the records filling the ring.
   */
  commitLazy(): void {
    this.tail = this.claimTail;
  }

  /** Producer: makes every record committed so far visible, with one store and one wake-up. */
  publish(): void {
    if (this.tail === this.publishedTail) return;
    this.publishedTail = this.tail;
    Atomics.store(this.i32, TAIL_INDEX, this.tail);
    this.dataBell.ring();
  }

  /**
   * Consumer: hands up to `limit` records to `handler`, in order, then releases their space
   * with one store (and wakes a producer sleeping for space). The payload is valid only during
   * onRecord. If onRecord throws, nothing of this batch is released. Returns the count.
   */
  read(handler: RecordHandler, limit: number): number {
    const i32 = this.i32;
    const mask = this.mask;
    const tail = Atomics.load(i32, TAIL_INDEX);
    let head = this.head;
    let count = 0;
    while (head !== tail && count < limit) {
      const at = DATA_INDEX + ((head & mask) >> 2);
      const length = i32[at];
      const type = i32[at + 1];
      head = (head + recordLength(length)) | 0;
      if (type !== PADDING_TYPE) {
        handler.onRecord(type, (at << 2) + RECORD_HEADER_LENGTH, length);
        count++;
      }
    }
    if (head !== this.head) this.release(head);
    return count;
  }

  /** Consumer: hands over exactly one record if there is one; for callers that must stop after it. */
  readOne(handler: RecordHandler): boolean {
    const i32 = this.i32;
    const tail = Atomics.load(i32, TAIL_INDEX);
    let head = this.head;
    while (head !== tail) {
      const at = DATA_INDEX + ((head & this.mask) >> 2);
      const length = i32[at];
      const type = i32[at + 1];
      head = (head + recordLength(length)) | 0;
      if (type !== PADDING_TYPE) {
        handler.onRecord(type, (at << 2) + RECORD_HEADER_LENGTH, length);
        this.release(head);
        return true;
      }
    }
    if (head !== this.head) this.release(head);
    return false;
  }

  /** True when no published record is waiting (either side may ask). */
  isEmpty(): boolean {
    return Atomics.load(this.i32, TAIL_INDEX) === Atomics.load(this.i32, HEAD_INDEX);
  }

  /** Bytes held by published, unreleased records, padding included. */
  size(): number {
    return (Atomics.load(this.i32, TAIL_INDEX) - Atomics.load(this.i32, HEAD_INDEX)) >>> 0;
  }

  /**
   * Consumer: announces that it is about to sleep; true when the ring is still empty, so it
   * may sleep with wait() or waitAsync(). See Doorbell for why no wake-up is lost.
   */
  park(): boolean {
    this.parkValue = this.dataBell.park();
    return Atomics.load(this.i32, TAIL_INDEX) === this.head;
  }

  /** Consumer on a worker thread, after park() returned true. */
  wait(timeoutMs: number): WaitResult {
    return this.dataBell.wait(this.parkValue, timeoutMs);
  }

  /** Consumer on the main thread, after park() returned true; undefined if already rung. */
  waitAsync(timeoutMs: number): Promise<unknown> | undefined {
    return this.dataBell.waitAsync(this.parkValue, timeoutMs);
  }

  private release(head: number): void {
    this.head = head;
    Atomics.store(this.i32, HEAD_INDEX, head);
    this.spaceBell.ring();
  }
}

/**
 * The producer's side of sleeping: after tryClaim returned BACK_PRESSURED, park() is true
 * while the consumer has released nothing since, and wait() sleeps until it does (the
 * consumer rings the ring's space bell on every release). Same protocol as the data side.
 */
export class SpaceParking implements Parkable {
  /** Head as tryClaim last saw it when the ring was full; set by SpscRing only. */
  headWhenFull = 0;
  private value = 0;

  constructor(
    private readonly i32: Int32Array,
    private readonly bell: Doorbell,
  ) {}

  park(): boolean {
    this.value = this.bell.park();
    return Atomics.load(this.i32, HEAD_INDEX) === this.headWhenFull;
  }

  wait(timeoutMs: number): WaitResult {
    return this.bell.wait(this.value, timeoutMs);
  }
}

function checkCapacity(capacity: number): void {
  if (!isPowerOfTwo(capacity) || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY) {
    throw new RingError(ERR_RING_CAPACITY, `ring capacity must be a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY} bytes, got ${capacity}`);
  }
}

function claimError(length: number, type: number, max: number): RingError {
  if (length >>> 0 !== length || length > max) {
    return new RingError(ERR_RING_RECORD_LENGTH, `record length must be an integer from 0 to ${max} (capacity / 2 - 8), got ${length}`);
  }
  return new RingError(ERR_RING_RECORD_TYPE, `record type must be an int32 other than ${PADDING_TYPE} (padding), got ${type}`);
}
