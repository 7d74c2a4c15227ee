import { BELL_LENGTH, BELL_PARKED_OFFSET, BELL_SIGNAL_OFFSET } from './ring-descriptor';
import { ERR_RING_BUFFER, RingError } from './ring-error';

/** The result of Atomics.wait: 'ok' (woken), 'not-equal' (signal already moved) or 'timed-out'. */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

interface WaitAsyncResult {
  async: boolean;
  value: WaitResult | Promise<'ok' | 'timed-out'>;
}

// Atomics.waitAsync is in Node 20 (V8 11) but not in the ES2022 lib typings.
const atomics = Atomics as unknown as {
  waitAsync(i32: Int32Array, index: number, value: number, timeoutMs: number): WaitAsyncResult;
};

/**
 * Where one thread sleeps until another has published something for it. It is an event count
 * (Vyukov): the sleeper announces itself, then re-checks its condition, then sleeps only if
 * the signal has not moved since the announcement.
 *
 * Sleeper (one thread):                 Waker (any thread, after publishing with Atomics):
 *   1 v = park()   parked = 1; read v     a  publish (Atomics.store of a cursor)
 *   2 re-check: still nothing to do?      b  ring(): if parked: parked = 0, signal++, notify
 *   3 wait(v, timeout)
 *
 * No wake-up is lost. All these accesses are Atomics, hence sequentially consistent. If (b)
 * reads parked = 0, that read precedes (1) (or a later 0 written by another waker, which
 * bumps the signal itself, same argument), so (a) precedes (2) and the re-check sees the
 * publication. If (b) reads 1 it bumps the signal: a bump before the read in (1) also puts
 * (a) before (2); a bump after it makes Atomics.wait in (3) return 'not-equal' at once, or
 * wakes it with notify, since wait compares and sleeps atomically with respect to notify.
 * Reading v after the re-check would lose exactly the publication made between the two.
 *
 * Many wakers may share one doorbell (every out-ring of the front thread rings the same one),
 * so one thread can sleep on many rings. The parked flag costs a waker one Atomics.load per
 * publication while nobody sleeps, and a stale flag (the sleeper found work and did not sleep)
 * costs at most one unneeded notify.
 */
export class Doorbell {
  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(BELL_LENGTH);
  }

  private readonly i32: Int32Array;
  private readonly parkedIndex: number;
  private readonly signalIndex: number;

  /** `byteOffset` places the doorbell inside another buffer (a ring header); 4-aligned. */
  constructor(sab: SharedArrayBuffer, byteOffset = 0) {
    if (!(sab instanceof SharedArrayBuffer) || byteOffset % 4 !== 0 || byteOffset + 8 > sab.byteLength) {
      throw new RingError(ERR_RING_BUFFER, 'a doorbell needs 8 bytes of a SharedArrayBuffer at a 4-aligned offset');
    }
    this.i32 = new Int32Array(sab);
    this.parkedIndex = (byteOffset + BELL_PARKED_OFFSET) >> 2;
    this.signalIndex = (byteOffset + BELL_SIGNAL_OFFSET) >> 2;
  }

  /** Sleeper: announces the intent to sleep; returns the signal value to wait on. */
  park(): number {
    Atomics.store(this.i32, this.parkedIndex, 1);
    return Atomics.load(this.i32, this.signalIndex);
  }

  /** Waker: call after publishing; wakes the sleeper if it has parked. */
  ring(): void {
    const i32 = this.i32;
    if (Atomics.load(i32, this.parkedIndex) !== 0) {
      Atomics.store(i32, this.parkedIndex, 0);
      Atomics.add(i32, this.signalIndex, 1);
      Atomics.notify(i32, this.signalIndex);
    }
  }

  /** Sleeper on a worker thread: blocks until rung or `timeoutMs` passed. */
  wait(value: number, timeoutMs: number): WaitResult {
    return Atomics.wait(this.i32, this.signalIndex, value, timeoutMs);
  }

  /**
   * Sleeper on the main thread (which must never block): a promise settled when rung or timed
   * out, or undefined when the signal already moved and there is nothing to wait for.
   */
  waitAsync(value: number, timeoutMs: number): Promise<unknown> | undefined {
    const r = atomics.waitAsync(this.i32, this.signalIndex, value, timeoutMs);
    return r.async ? (r.value as Promise<unknown>) : undefined;
  }
}
