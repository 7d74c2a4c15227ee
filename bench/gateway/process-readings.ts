import { readdirSync, readFileSync } from 'node:fs';

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
