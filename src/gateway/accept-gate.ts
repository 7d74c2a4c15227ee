import { statSync } from 'node:fs';
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { BookcastError } from '../errors';
import { descriptorBudget, readFileLimit } from '../util/descriptor-budget';

type Uws = typeof import('uWebSockets.js');

/** How often open descriptors are counted: a stat of /proc/self/fd, about 50 µs. */
const CHECK_MS = 20;

/**
 * The listening socket, closed while the process is short of file descriptors. The connection
 * caps bound WebSockets, but uWS accepts any TCP connection for HTTP and keeps an idle one for
 * 10 s, so a flood of bare connections could still take every descriptor, and the next journal
 * segment or store file would fail with EMFILE. When fewer than half the reserve
 * (descriptor-budget.ts) is left, the gate stops listening: new clients are refused by the
 * kernel, everything open keeps working, and uWS's idle timeout frees the flood's sockets; once
 * the whole reserve is free again it listens again on the same port.
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
    if (countOpenDescriptors() > 0) this.timer = setInterval(() => this.check(), CHECK_MS);
    return this.port;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.socket !== null) this.uws.us_listen_socket_close(this.socket);
    this.socket = null;
  }

  private check(): void {
    const open = countOpenDescriptors();
    const { fileLimit, reserve } = this.budget;
    if (this.socket !== null && open >= fileLimit - reserve / 2) {
      this.uws.us_listen_socket_close(this.socket);
      this.socket = null;
      this.pauses++;
    } else if (this.socket === null && !this.closed && open <= fileLimit - reserve) {
      // Fails while another process holds the port; the next check tries again.
      this.tryListen(this.port);
    }
  }

  private tryListen(port: number): us_listen_socket | null {
    this.app.listen(this.host, port, (socket) => {
      this.socket = socket || null;
    });
    return this.socket;
  }
}

/** Open descriptors of this process; 0 where /proc does not count them (before Linux 6.2, not Linux). */
export function countOpenDescriptors(): number {
  try {
    return statSync('/proc/self/fd').size;
  } catch {
    return 0;
  }
}
