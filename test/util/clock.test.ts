import t from 'tap';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { epochMicros, nowMicros } from '../../src/util/clock';

/** Generous: a loaded machine may deschedule this thread between two readings. */
const SLACK_US = 250_000;

t.test('nowMicros is the wall clock in µs, and epochMicros of a reading agrees with it', async (t) => {
  const before = Date.now() * 1000;
  const now = nowMicros();
  const after = Date.now() * 1000;
  t.ok(now >= before - 1000 && now <= after + 1000, `${now} within [${before}, ${after}] (Date.now's ms)`);
  t.ok(Number.isInteger(now), 'whole µs');
  const reading = performance.now();
  const fromReading = epochMicros(reading);
  t.ok(Math.abs(fromReading - nowMicros()) < SLACK_US, 'a reading taken just before gives nearly the same time');
});

t.test('another thread, with its own time origin, reads the same clock', async (t) => {
  const clock = require.resolve('../../src/util/clock');
  const worker = new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.postMessage(require(${JSON.stringify(clock)}).nowMicros());`, { eval: true });
  const [before, theirs, after] = await new Promise<number[]>((resolve, reject) => {
    const start = nowMicros();
    worker.once('message', (m: number) => resolve([start, m, nowMicros()]));
    worker.once('error', reject);
  });
  await worker.terminate();
  t.ok(theirs >= before - 1000 && theirs <= after + 1000, `the worker's ${theirs} between this thread's ${before} and ${after}`);
});
