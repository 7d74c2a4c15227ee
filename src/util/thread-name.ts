import { writeFileSync } from 'node:fs';

/**
 * Names the calling thread where the kernel shows it (`top -H`, `ps -L`, /proc/<pid>/task/<tid>/comm),
 * so an operator, and the server-idle-cpu benchmark, can tell which thread takes the CPU: Node
 * leaves every thread named "node" and has no API for it. /proc/thread-self is the calling
 * thread's own task directory (Linux 3.17+); the kernel keeps the first 15 bytes. Elsewhere it
 * does nothing: a name is a convenience, never a reason to fail a start.
 */
export function nameThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // Not Linux, or /proc not mounted.
  }
}
