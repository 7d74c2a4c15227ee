import t from 'tap';
import { parseHistograms, threadLabels, waitsByLabel } from '../../bench/gateway/wakeup-latency';

/** What bpftrace prints for the probe's map on SIGINT (log2 histograms, one per thread id). */
const PRINTED = `Attaching 3 probes...


@us[101]:
[0]                    2 |@@                                                  |
[1]                   50 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[2, 4)                40 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@            |
[4K, 8K)               8 |@@@@@@@@                                            |

@us[102]:
[16, 32)             100 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@us[103]:
[1M, 2M)               5 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
`;

t.test('histograms are read per thread, each bucket by its upper bound in µs', async (t) => {
  const h = parseHistograms(PRINTED);
  t.same([...h.keys()], [101, 102, 103]);
  t.same([...h.get(101)!], [[0, 2], [1, 50], [4, 40], [8192, 8]]);
  t.same([...h.get(102)!], [[32, 100]]);
  t.same([...h.get(103)!], [[2 * 1024 * 1024, 5]]);
});

t.test('threads with one label are merged, and percentiles name the bucket that holds them', async (t) => {
  const h = parseHistograms(PRINTED);
  const labels = new Map([
    [101, 'server main'],
    [102, 'client main'],
    [103, 'client main'],
  ]);
  const waits = waitsByLabel(h, labels);
  t.same(Object.keys(waits), ['client main', 'server main'], 'busiest first');
  t.same(waits['server main'], { wakeups: 100, p50: 1, p90: 4, p99: 8192, p999: 8192 });
  t.same(waits['client main'], { wakeups: 105, p50: 32, p90: 32, p99: 2 * 1024 * 1024, p999: 2 * 1024 * 1024 });
  t.same(waitsByLabel(h, new Map([[101, 'server main']]), 101), {}, 'fewer wake-ups than asked for: left out');
  t.same(waitsByLabel(h, new Map()), {}, 'threads of no watched process: left out');
});

t.test("a process's threads are named by role: its main thread, the others by their names", async (t) => {
  const labels = threadLabels([{ pid: process.pid, role: 'me' }, { pid: 2 ** 22 + 1, role: 'gone' }]);
  t.equal(labels.get(process.pid), 'me main');
  t.ok([...labels.values()].every((l) => l.startsWith('me ')), 'a process that is gone adds nothing');
});
