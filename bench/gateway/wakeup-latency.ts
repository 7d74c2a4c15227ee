import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * How long each thread of the processes under test waited for a CPU once it was ready to run:
 * from its wake-up (or its preemption while still runnable) to the moment the scheduler switched
 * it in. On a machine whose cores the servers share with their clients, this is where a thread
 * hand-off's tail comes from: the event is ready, its thread is not running. Measured in the
 * kernel with bpftrace (sched_wakeup and sched_switch tracepoints; root and a kernel with BTF),
 * per thread, as log2 histograms, so percentiles are given as the histogram bucket's upper
 * bound: "p99 ≤ 4,096 µs".
 */

const SCRIPT = `
tracepoint:sched:sched_wakeup, tracepoint:sched:sched_wakeup_new { @ready[args->pid] = nsecs; }
tracepoint:sched:sched_switch {
  if (args->prev_state == 0) { @ready[args->prev_pid] = nsecs; }
  $t = @ready[args->next_pid];
  if ($t) {
    @us[args->next_pid] = hist((nsecs - $t) / 1000);
    delete(@ready[args->next_pid]);
  }
}
END { clear(@ready); }
`;

const ATTACH_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;

export interface ThreadWaits {
  /** Times the thread was switched in after waiting. */
  wakeups: number;
  /** Upper bounds (µs) of the log2 buckets holding these percentiles of the wait. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

/** A process to name threads of: its role in the run (`bookcast`, `clients`). */
export interface WatchedProcess {
  pid: number;
  role: string;
}

/** bpftrace's bucket label (`[4K, 8K)`, `[1]`) → its upper bound in µs. */
function bucketUpper(label: string): number {
  const parts = label.replace(/[[\])]/g, '').split(',');
  const text = parts[parts.length - 1].trim();
  const unit = text.endsWith('K') ? 1024 : text.endsWith('M') ? 1024 * 1024 : 1;
  return Number(unit === 1 ? text : text.slice(0, -1)) * unit;
}

/** Histograms by thread id from bpftrace's printed maps. */
export function parseHistograms(output: string): Map<number, Map<number, number>> {
  const byThread = new Map<number, Map<number, number>>();
  let current: Map<number, number> | null = null;
  for (const line of output.split('\n')) {
    const head = /^@us\[(\d+)\]:/.exec(line);
    if (head !== null) {
      current = new Map();
      byThread.set(Number(head[1]), current);
      continue;
    }
    const bucket = /^(\[[^\]]*[\])])\s+(\d+)/.exec(line.trim());
    if (bucket !== null && current !== null) current.set(bucketUpper(bucket[1]), Number(bucket[2]));
    else if (line.trim() === '') current = null;
  }
  return byThread;
}

function percentile(buckets: Map<number, number>, total: number, q: number): number {
  let seen = 0;
  for (const [upper, count] of [...buckets].sort((a, b) => a[0] - b[0])) {
    seen += count;
    if (seen >= q * total) return upper;
  }
  return NaN;
}

/** Each watched process's threads by id: `<role> main` for its main thread, `<role> <thread name>` for the others. */
export function threadLabels(processes: readonly WatchedProcess[]): Map<number, string> {
  const labels = new Map<number, string>();
  for (const { pid, role } of processes) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      let name = '?';
      try {
        name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      } catch {
        // The thread ended meanwhile.
      }
      labels.set(Number(tid), Number(tid) === pid ? `${role} main` : `${role} ${name}`);
    }
  }
  return labels;
}

/** The waits of the labelled threads, merged by label, busiest first (labels with fewer than `least` wake-ups left out). */
export function waitsByLabel(histograms: Map<number, Map<number, number>>, labels: Map<number, string>, least = 20): Record<string, ThreadWaits> {
  const merged = new Map<string, Map<number, number>>();
  for (const [tid, buckets] of histograms) {
    const label = labels.get(tid);
    if (label === undefined) continue;
    const into = merged.get(label) ?? new Map<number, number>();
    for (const [upper, count] of buckets) into.set(upper, (into.get(upper) ?? 0) + count);
    merged.set(label, into);
  }
  const rows: [string, ThreadWaits][] = [];
  for (const [label, buckets] of merged) {
    const total = [...buckets.values()].reduce((a, b) => a + b, 0);
    if (total < least) continue;
    rows.push([label, { wakeups: total, p50: percentile(buckets, total, 0.5), p90: percentile(buckets, total, 0.9), p99: percentile(buckets, total, 0.99), p999: percentile(buckets, total, 0.999) }]);
  }
  rows.sort((a, b) => b[1].wakeups - a[1].wakeups);
  return Object.fromEntries(rows);
}

/** A running bpftrace probe: every thread's waits from start() to stop(). */
export class WakeupProbe {
  private output = '';

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** Resolves once the probe is attached; rejects (BENCH_NO_BPFTRACE) when bpftrace cannot run here. */
  static start(): Promise<WakeupProbe> {
    const child = spawn('bpftrace', ['-e', SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    const probe = new WakeupProbe(child);
    return new Promise((resolve, reject) => {
      let errors = '';
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(Object.assign(new Error(`bpftrace: ${why} (Debian: apt-get install bpftrace; needs root)`), { code: 'BENCH_NO_BPFTRACE' }));
      };
      const timer = setTimeout(() => fail(`not attached within ${ATTACH_TIMEOUT_MS} ms: ${errors}`), ATTACH_TIMEOUT_MS);
      child.on('error', (err) => fail(err.message));
      child.on('exit', (code) => fail(`exited (${code}): ${errors.trim()}`));
      // bpftrace says "Attaching N probes..." on stdout once its probes are in place.
      const attached = (chunk: Buffer) => {
        if (!chunk.toString().includes('Attaching')) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stdout!.off('data', attached);
        resolve(probe);
      };
      child.stdout!.on('data', attached);
      child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    });
  }

  /** Stops the probe; its histograms by thread id. */
  stop(): Promise<Map<number, Map<number, number>>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(Object.assign(new Error(`bpftrace did not stop within ${STOP_TIMEOUT_MS} ms`), { code: 'BENCH_BPFTRACE_STUCK' }));
      }, STOP_TIMEOUT_MS);
      this.child.on('exit', () => {
        clearTimeout(timer);
        resolve(parseHistograms(this.output));
      });
      // SIGINT makes bpftrace print its maps and exit.
      this.child.kill('SIGINT');
    });
  }
}
