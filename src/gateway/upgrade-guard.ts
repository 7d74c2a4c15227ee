import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { BookcastError } from '../errors';
import { ConnectionLimits } from './connection-limits';
import { remotePeer } from './answer-meter';
import { sendError } from './http';

export interface UpgradeGuardOptions {
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Browser origins allowed to open a WebSocket (`scheme://host[:port]`); empty allows every origin. */
  allowedOrigins: readonly string[];
}

/**
 * What every WebSocket upgrade passes first, on every endpoint: the Origin allow-list (a browser
 * page of another site must not use a visitor's browser as its client) and the connection limits
 * (sockets must leave file descriptors for the journal and the store). A request without an
 * Origin header comes from a non-browser client and is not refused for it.
 */
export class UpgradeGuard {
  readonly limits: ConnectionLimits;
  private readonly origins: ReadonlySet<string> | null;
  refusedOrigins = 0;

  constructor(options: UpgradeGuardOptions) {
    this.limits = new ConnectionLimits(options.maxConnections, options.maxConnectionsPerIp);
    this.origins = options.allowedOrigins.length === 0 ? null : new Set(options.allowedOrigins.map(normalizeOrigin));
  }

  /**
   * Returns the client's key (to hand to `opened` and `closed`), or answers the upgrade with its
   * refusal (403 ORIGIN_NOT_ALLOWED, 503 TOO_MANY_CONNECTIONS, 429 TOO_MANY_CONNECTIONS_PER_IP) and
   * returns null. Reads `req` synchronously, as uWS requires.
   */
  admit(res: HttpResponse, req: HttpRequest): string | null {
    try {
      const origin = req.getHeader('origin');
      if (this.origins !== null && origin !== '' && !this.origins.has(normalizeOrigin(origin))) {
        this.refusedOrigins++;
        throw new BookcastError('ORIGIN_NOT_ALLOWED', `origin ${origin.slice(0, 200)} may not open WebSocket connections here`);
      }
      const client = remotePeer(res).key;
      this.limits.check(client);
      return client;
    } catch (err) {
      if (!(err instanceof BookcastError)) throw err;
      sendError(res, err.code, err.message);
      return null;
    }
  }

  opened(client: string): void {
    this.limits.opened(client);
  }

  closed(client: string): void {
    this.limits.closed(client);
  }

  health(): Record<string, number> {
    const l = this.limits;
    return {
      open: l.open,
      max: l.maxConnections,
      max_per_ip: l.maxConnectionsPerIp,
      refused_total_cap: l.refusedTotal,
      refused_per_ip_cap: l.refusedPerIp,
      refused_origin: this.refusedOrigins,
    };
  }
}

/** Origins compare as browsers send them: scheme, host and port, lower case, no trailing slash. */
export function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}
