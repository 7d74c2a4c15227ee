import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { round } from '../system';

/**
 * What the kernel says about one server process's footprint: resident memory, open files and
 * their limit, and the machine's TCP buffer memory. RSS leaves out the kernel's socket buffers,
 * so a scenario about holding connections reads both. Readings are null where /proc is absent.
 */

const PAGE_BYTES = 4096;
const MIB = 2 ** 20;

/** VmRSS of `pid` in MiB (/proc/<pid>/status reports kB). */
export function residentMiB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number(match[1]) / 1024;
  } catch {
    return null;
  }
}

/** Descriptors `pid` holds open now: sockets, files, pipes, epoll and eventfds. */
export function openFiles(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** The soft limit on open files of `pid` (Node raises it to the hard limit at start). */
export function openFilesLimit(pid: number): number | null {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return match === null || match[1] === 'unlimited' ? null : Number(match[1]);
  } catch {
    return null;
  }
}

/**
 * Memory the kernel holds in TCP socket buffers, whole machine (both ends of every loopback
 * connection, and other users' sockets): /proc/net/sockstat counts it in pages.
 */
export function tcpBufferMiB(): number | null {
  try {
    const match = /^TCP:.* mem (\d+)/m.exec(readFileSync('/proc/net/sockstat', 'utf8'));
    return match === null ? null : (Number(match[1]) * PAGE_BYTES) / MIB;
  } catch {
    return null;
  }
}

/** One thread of a process as the kernel counts it: its name, CPU and how often it slept. */
export interface ThreadReading {
  tid: number;
  /** /proc/<pid>/task/<tid>/comm: "node" unless the thread named itself (src/util/thread-name.ts). */
  name: string;
  cpuSeconds: number;
  /** voluntary_ctxt_switches: the times it gave up the CPU to wait, i.e. its wake-ups. */
  sleeps: number;
}

/** Linux reports /proc times in USER_HZ ticks, 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/**
 * A thread's time on a CPU in ns: exact from schedstat (the scheduler's own count), else from
 * stat's utime + stime, in 10 ms ticks, too coarse for an idle thread: over a 6 s window one tick
 * is 0.0017 of a core, a sixth of the idle goal.
 */
function runNanoseconds(dir: string): number {
  try {
    return Number(readFileSync(`${dir}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    const stat = readFileSync(`${dir}/stat`, 'utf8');
    // After "pid (comm) ", field 3 (state) is index 0: utime (14) and stime (15) are 11 and 12.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e9;
  }
}

/** Every live thread of `pid`, in creation order (thread ids grow); empty where /proc is absent. */
export function threadReadings(pid: number): ThreadReading[] {
  let tids: number[];
  try {
    tids = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
  const readings: ThreadReading[] = [];
  for (const tid of tids.sort((a, b) => a - b)) {
    try {
      const dir = `/proc/${pid}/task/${tid}`;
      const sleeps = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`${dir}/status`, 'utf8'));
      readings.push({
        tid,
        name: readFileSync(`${dir}/comm`, 'utf8').trim(),
        cpuSeconds: runNanoseconds(dir) / 1e9,
        sleeps: sleeps === null ? 0 : Number(sleeps[1]),
      });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return readings;
}

/** The threads of one label between two readings: their CPU (in cores) and wake-ups per second. */
export interface ThreadRow {
  name: string;
  threads: number;
  cores: number;
  wakeupsPerSecond: number;
}

/**
 * The main thread is the process's own id; every other thread goes by its name. A new thread
 * inherits the name of the thread that started it, so of several with one name the first (the
 * lowest id) is the named one and the later ones were started by it: libuv's pool, started by
 * whichever thread first used it (a journal's background fdatasync, a store's file reads).
 */
function labels(readings: ThreadReading[], pid: number): Map<number, string> {
  const named = new Set<string>();
  const result = new Map<number, string>();
  for (const r of readings) {
    if (r.tid === pid) result.set(r.tid, 'main (front)');
    else if (r.name === 'node' || !named.has(r.name)) result.set(r.tid, r.name);
    else result.set(r.tid, `started by ${r.name}`);
    named.add(r.name);
  }
  return result;
}

/** Per thread label of `pid`: the CPU and sleeps between two readings, over `seconds`, busiest first. */
export function threadCores(before: ThreadReading[], after: ThreadReading[], pid: number, seconds: number): ThreadRow[] {
  const start = new Map(before.map((r) => [r.tid, r]));
  const names = labels(after, pid);
  const rows = new Map<string, ThreadRow>();
  for (const r of after) {
    const s = start.get(r.tid);
    const name = names.get(r.tid)!;
    const row = rows.get(name) ?? { name, threads: 0, cores: 0, wakeupsPerSecond: 0 };
    row.threads++;
    row.cores += (r.cpuSeconds - (s?.cpuSeconds ?? 0)) / seconds;
    row.wakeupsPerSecond += (r.sleeps - (s?.sleeps ?? 0)) / seconds;
    rows.set(name, row);
  }
  return [...rows.values()]
    .map((row) => ({ ...row, cores: round(row.cores, 4), wakeupsPerSecond: round(row.wakeupsPerSecond, 1) }))
    .sort((a, b) => b.cores - a.cores || b.wakeupsPerSecond - a.wakeupsPerSecond);
}

/**
 * Gives every thread `pid` has now the nice value `nice` (threads it starts later inherit their
 * creator's). Linux keeps a nice value per thread, so setting the process's would move its main
 * thread alone. Below 0 needs CAP_SYS_NICE. Returns the threads changed.
 */
export function reniceThreads(pid: number, nice: number): number {
  const tids = readdirSync(`/proc/${pid}/task`);
  for (const tid of tids) setPriority(Number(tid), nice);
  return tids.length;
}
