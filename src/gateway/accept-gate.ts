import { statSync } from 'node:fs';
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { BookcastError } from '../errors';
import { DescriptorBudget, descriptorBudget, readFileLimit } from '../util/descriptor-budget';

type Uws = typeof import('uWebSockets.js');

/**
 * The shortest time between two counts of the open descriptors (a stat of /proc/self/fd): near
 * the limit, and while the gate is closed.
 */
const CHECK_MS = 20;
/** The longest: far from the limit an idle server counts about ten times a second, not 50. */
const CHECK_MAX_MS = 1000;
/**
 * A count every CHECK_MS holds while fewer than half the reserve are accepted per CHECK_MS (what
 * is still free when the gate closes at its threshold). A longer wait must hold at ten times that
 * rate: so at any rate where counting every CHECK_MS keeps the last descriptors, this does too.
 */
const RATE_MARGIN = 10;

/**
 * The listening socket, closed while the process is short of file descriptors. The connection
 * caps bound WebSockets, but uWS accepts any TCP connection for HTTP and keeps an idle one for
 * 10 s, so a flood of bare connections could still take every descriptor, and the next journal
 * segment or store file would fail with EMFILE. When fewer than one accept queue and half the
 * reserve (descriptor-budget.ts) are left, the gate stops listening: new clients are refused by
 * the kernel, everything open keeps working, and uWS's idle timeout frees the flood's sockets;
 * once the queue and the whole reserve are free again it listens again on the same port. The
 * queue is there because a count, however frequent, cannot see the kernel filling it while the
 * server does not run; uWS then accepts all of it at once.
 *
 * It needs Linux 6.2 or later, where the size of /proc/self/fd is the number of open
 * descriptors; elsewhere it only listens, and the caps are the protection.
 */
export class AcceptGate {
  private socket: us_listen_socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** What the open-file limit leaves for connections. */
  readonly budget = descriptorBudget(readFileLimit());
  port = 0;
  /** Times it stopped listening, since start (health). */
  pauses = 0;

  constructor(
    private readonly uws: Uws,
    private readonly app: TemplatedApp,
    private readonly host: string,
  ) {}

  /** Listens on `port` (0: any free one) and returns the port; throws LISTEN_FAILED. */
  listen(port: number): number {
    const socket = this.tryListen(port);
    if (socket === null) throw new BookcastError('LISTEN_FAILED', `could not listen on ${this.host}:${port}`);
    this.port = this.uws.us_socket_local_port(socket);
    if (countOpenDescriptors() > 0) this.schedule(CHECK_MS);
    return this.port;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.socket !== null) this.uws.us_listen_socket_close(this.socket);
    this.socket = null;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) this.schedule(this.check());
    }, ms);
  }

  /** Closes or reopens the listening socket as the count says; returns the ms until the next count. */
  private check(): number {
    const open = countOpenDescriptors();
    const closeAt = closingThreshold(this.budget);
    if (this.socket !== null && open >= closeAt) {
      this.uws.us_listen_socket_close(this.socket);
      this.socket = null;
      this.pauses++;
    } else if (this.socket === null && !this.closed && open <= closeAt - this.budget.reserve / 2) {
      // Fails while another process holds the port; the next check tries again.
      this.tryListen(this.port);
    }
    return this.socket === null ? CHECK_MS : checkDelayMs(open, this.budget);
  }

  private tryListen(port: number): us_listen_socket | null {
    this.app.listen(this.host, port, (socket) => {
      this.socket = socket || null;
    });
    return this.socket;
  }
}

/**
 * Open descriptors at which the gate stops listening: half the reserve and a whole accept queue
 * below the limit, so the queue's burst still leaves half the reserve to the journal and the store.
 */
export function closingThreshold(budget: DescriptorBudget): number {
  return budget.fileLimit - budget.acceptQueue - budget.reserve / 2;
}

/**
 * While listening with `open` descriptors: how long the next count may wait. That is the time
 * the headroom below the closing threshold takes to fill at RATE_MARGIN times the accept rate a
 * count every CHECK_MS tolerates, within CHECK_MS..CHECK_MAX_MS.
 * At the 20,000 descriptors allowed here, an idle server counts about every 95 ms.
 * With the few hundred of a test's limit, it counts every CHECK_MS, as before.
 */
export function checkDelayMs(open: number, budget: DescriptorBudget): number {
  const tolerated = budget.reserve / 2 / CHECK_MS;
  const headroom = closingThreshold(budget) - open;
  return Math.min(CHECK_MAX_MS, Math.max(CHECK_MS, headroom / (tolerated * RATE_MARGIN)));
}

/** Open descriptors of this process; 0 where /proc does not count them (before Linux 6.2, not Linux). */
export function countOpenDescriptors(): number {
  try {
    return statSync('/proc/self/fd').size;
  } catch {
    return 0;
  }
}
