import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const threadNames = (): string[] => readdirSync('/proc/self/task').map((tid) => readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim());

t.test('a worker thread names itself where the kernel shows it, cut to 15 bytes', { skip: !existsSync('/proc/thread-self') && 'no /proc/thread-self' }, async (t) => {
  const script = `
    const { parentPort } = require('node:worker_threads');
    require(${JSON.stringify(require.resolve('../../src/util/thread-name'))}).nameThread('bookcast-test-thread-name');
    parentPort.postMessage('named');
    parentPort.once('message', () => process.exit(0));
  `;
  const worker = new Worker(script, { eval: true });
  await once(worker, 'message');
  t.ok(threadNames().includes('bookcast-test-t'), 'the worker shows under its name');
  t.equal(readFileSync('/proc/thread-self/comm', 'utf8').trim(), 'node', 'the calling thread only: the main thread keeps its name');
  worker.postMessage('stop');
  await once(worker, 'exit');
});
