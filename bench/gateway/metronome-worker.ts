/**
 * The thread behind Metronome (metronome.ts): sleeps until each tick is due and wakes the main
 * thread through a shared counter. Atomics.wait sleeps with µs resolution where a timer of the
 * event loop has 1 ms; it waits on the stop word, so stopping wakes it at once.
 */
import { workerData } from 'node:worker_threads';
import { nowMicros } from '../../src/util/clock';
import { nextTickUs, STOP, TICKS, type MetronomeData } from './metronome';

const { words: buffer, t0Us, tickUs } = workerData as MetronomeData;
const words = new Int32Array(buffer);

let due = t0Us;
for (;;) {
  const wait = due - nowMicros();
  if (wait > 0) Atomics.wait(words, STOP, 0, wait / 1000);
  if (Atomics.load(words, STOP) !== 0) break;
  Atomics.add(words, TICKS, 1);
  Atomics.notify(words, TICKS);
  due = nextTickUs(due, nowMicros(), t0Us, tickUs);
}
// Whoever still waits for a tick learns that there will be none.
Atomics.add(words, TICKS, 1);
Atomics.notify(words, TICKS);
