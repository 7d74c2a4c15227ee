import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';

/**
 * What the machine and the kernel say about the run: the machine itself, and CPU seconds per
 * process, per thread and for the whole machine from /proc. On a shared machine the figures of
 * a benchmark mean little without the CPU that others took meanwhile, so every scenario records
 * the machine's busy CPU beside its own. Readings are null where /proc is absent (not Linux).
 */

/** Linux reports /proc times in USER_HZ ticks, which is 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  availableParallelism: number;
  memoryGiB: number;
  platform: string;
  kernel: string;
  node: string;
  v8: string;
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    v8: process.versions.v8,
    loadAverage: loadAverage(),
  };
}

export function loadAverage(): number[] {
  return os.loadavg().map((l) => Math.round(l * 100) / 100);
}

/**
 * utime + stime of a /proc/.../stat line in seconds, or with `children` cutime + cstime: the
 * CPU of every descendant that has exited and been waited for. The command name may hold spaces.
 */
function statCpuSeconds(path: string, children = false): number | null {
  try {
    const text = readFileSync(path, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 3 (state) is index 0: utime (14) and stime (15) are 11 and 12,
    // cutime (16) and cstime (17) are 13 and 14.
    const at = children ? 13 : 11;
    return (Number(fields[at]) + Number(fields[at + 1])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** CPU seconds used so far by process `pid`, all its threads together; null once it is gone. */
export function processCpuSeconds(pid: number): number | null {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * CPU seconds of this process's finished descendants, whole trees (a child's own children count
 * once the child waited for them): the cost of a scenario run as a child process, servers and
 * client processes included.
 */
export function finishedChildrenCpuSeconds(): number | null {
  return statCpuSeconds('/proc/self/stat', true);
}

/** CPU seconds of every live thread of this process, by thread id. */
export function threadCpuSeconds(): Map<number, number> {
  const threads = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return threads;
  }
  for (const tid of tids) {
    const seconds = statCpuSeconds(`/proc/self/task/${tid}/stat`);
    if (seconds !== null) threads.set(Number(tid), seconds);
  }
  return threads;
}

/** Busy CPU seconds of the whole machine so far (every core; idle and iowait left out). */
export function machineBusySeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** This process's CPU seconds (every thread), from Node itself. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The best of `rounds` timed rounds of `perRound` calls, in ns per call: the least disturbed round on a shared machine. */
export function bestNsPerCall(perRound: number, op: () => void, rounds = 5): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) op();
    const ns = Number(process.hrtime.bigint() - t0) / perRound;
    if (ns < best) best = ns;
  }
  return Math.round(best);
}
