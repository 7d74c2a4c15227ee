import { statSync } from 'node:fs';
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { BookcastError } from '../errors';
import { DescriptorBudget, descriptorBudget, readFileLimit } from '../util/descriptor-budget';

type Uws = typeof import('uWebSockets.js');

/**
 * The shortest time between two counts of the open descriptors (a stat of /proc/self/fd, about
 * 50 µs): near the limit, and while the gate is closed.
 */
const CHECK_MS = 20;
/** The longest: far from the limit an idle server counts about once a second, not 50 times. */
const CHECK_MAX_MS = 1000;

/**
 * The listening socket, closed while the process is short of file descriptors. The connection
 * caps bound WebSockets, but uWS accepts any TCP connection for HTTP and keeps an idle one for
 * 10 s, so a flood of bare connections could still take every descriptor, and the next journal
 * segment or store file would fail with EMFILE. When fewer than half the reserve
 * (descriptor-budget.ts) is left, the gate stops listening: new clients are refused by the
 * kernel, everything open keeps working, and uWS's idle timeout frees the flood's sockets; once
 * the whole reserve is free again it listens again on the same port.
 *
 * How often it counts follows the headroom. Counting every CHECK_MS assumes that fewer than half
 * the reserve can be accepted within CHECK_MS (what stays free when the gate closes at the
 * threshold); at that same bound on the accept rate, `headroom` descriptors below the threshold
 * take at least headroom / rate to fill, so the next count can wait that long and still come
 * before the threshold is passed: the same guarantee, with a count per second when the server
 * is far from the limit instead of 50.
 *
 * It needs Linux 6.2 or later, where the size of /proc/self/fd is the number of open
 * descriptors; elsewhere it only listens, and the caps are the protection.
 */
export class AcceptGate {
  private socket: us_listen_socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly budget = descriptorBudget(readFileLimit());
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
    const { fileLimit, reserve } = this.budget;
    const threshold = fileLimit - reserve / 2;
    if (this.socket !== null && open >= threshold) {
      this.uws.us_listen_socket_close(this.socket);
      this.socket = null;
      this.pauses++;
    } else if (this.socket === null && !this.closed && open <= fileLimit - reserve) {
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
 * While listening with `open` descriptors: the ms the next count may wait, i.e. the time the
 * headroom below the closing threshold takes to fill at the accept rate CHECK_MS assumes (half
 * the reserve per CHECK_MS), within CHECK_MS..CHECK_MAX_MS.
 */
export function checkDelayMs(open: number, budget: DescriptorBudget): number {
  const acceptsPerMs = budget.reserve / 2 / CHECK_MS;
  const headroom = budget.fileLimit - budget.reserve / 2 - open;
  return Math.min(CHECK_MAX_MS, Math.max(CHECK_MS, headroom / acceptsPerMs));
}

/** Open descriptors of this process; 0 where /proc does not count them (before Linux 6.2, not Linux). */
export function countOpenDescriptors(): number {
  try {
    return statSync('/proc/self/fd').size;
  } catch {
    return 0;
  }
}
