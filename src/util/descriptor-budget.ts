import { readFileSync } from 'node:fs';

/**
 * How many connections the process can hold. Every socket is a file descriptor, and so is every
 * file the journal, the store and the checkpoints open; when sockets take the last of them the
 * next journal segment or store file fails with EMFILE and the server has to stop. So sockets
 * get the open-file limit minus a reserve, never all of it.
 *
 * The reserve covers what the process holds without any client (about 30 descriptors measured:
 * threads' pipes and event fds, the journal, the store), checkpoint writes (8 at a time), store
 * connections and REST clients: 4% of the limit, at least 128, at most 1024 (800 of the 20,000
 * allowed here).
 *
 * Above it sits one full accept queue. The kernel completes connections into the listening
 * socket's queue without the server doing anything, and uWS accepts the whole queue in one go
 * the next time its loop runs: a burst of descriptors no count can see coming, as large as the
 * queue, after a moment of a busy machine not running the server. So the accept gate
 * (accept-gate.ts) stops listening a whole queue below the reserve, and connections by default
 * stop there too (18,687 with a limit of 20,000).
 */
export interface DescriptorBudget {
  /** The soft limit on open files (RLIMIT_NOFILE), or FALLBACK_FILE_LIMIT when it cannot be read. */
  readonly fileLimit: number;
  readonly reserve: number;
  /** Connections the kernel may queue for accepting (acceptQueueLength). */
  readonly acceptQueue: number;
  /** Default --max-connections: the limit less the reserve and one accept queue. */
  readonly maxConnections: number;
}

/** Assumed when /proc is not there (not Linux): the usual soft limit. */
export const FALLBACK_FILE_LIMIT = 1024;

/** The soft "Max open files" of this process, from /proc/self/limits (Node has no getrlimit). */
export function readFileLimit(limitsText?: string): number {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return FALLBACK_FILE_LIMIT;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (m === null) return FALLBACK_FILE_LIMIT;
  return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}

/** The backlog uWS listens with (uSockets' bsd_create_listen_socket). */
const UWS_LISTEN_BACKLOG = 512;

/**
 * Connections Linux holds completed for a listening socket: one more than its backlog, which the
 * kernel caps at net.core.somaxconn.
 */
export function acceptQueueLength(somaxconnText?: string): number {
  let text = somaxconnText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/sys/net/core/somaxconn', 'utf8');
    } catch {
      return UWS_LISTEN_BACKLOG + 1;
    }
  }
  const somaxconn = Number.parseInt(text, 10);
  return (Number.isInteger(somaxconn) && somaxconn > 0 ? Math.min(UWS_LISTEN_BACKLOG, somaxconn) : UWS_LISTEN_BACKLOG) + 1;
}

export function descriptorBudget(fileLimit: number, acceptQueue = acceptQueueLength()): DescriptorBudget {
  const reserve = Math.min(1024, Math.max(128, Math.ceil(fileLimit * 0.04)));
  const maxConnections = Math.max(1, Math.min(fileLimit - reserve - acceptQueue, 1_000_000));
  return { fileLimit, reserve, acceptQueue, maxConnections };
}

/**
 * What an operator should hear when --max-connections is more than `budget` leaves for
 * connections (null when it is not): the accept gate stops listening before the process runs out
 * of descriptors, so connections past the budget wait or are refused whatever the setting says.
 */
export function unreachableConnections(maxConnections: number, budget: DescriptorBudget): string | null {
  if (maxConnections <= budget.maxConnections) return null;
  return (
    `--max-connections ${maxConnections} is more than the open-file limit of ${budget.fileLimit} leaves for connections ` +
    `(${budget.maxConnections}, after a reserve of ${budget.reserve} and an accept queue of ${budget.acceptQueue}): ` +
    'near that the server stops listening until descriptors free up; raise the limit (ulimit -n) or lower --max-connections'
  );
}
