import type { SessionBudget } from '../distribution/session';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { BookcastError } from '../errors';
import type { Instrument } from '../model/instruments';
import type { SessionHub } from '../distribution/session-hub';
import type { StreamTable } from '../distribution/streams';
import { FixConnection, FixGateway, FixLimits } from './fix-connection';
import type { FixAuthenticator } from './fix-credentials';
import { FixOutlet } from './fix-outlet';
import { FixRenderer } from './fix-render';
import { FixSessionStore } from './fix-session-store';

/** How often heartbeats, TestRequests, logon deadlines and incoming sequence numbers are looked at. */
const TICK_MS = 500;
/** A connection that has not logged on by then is dropped. */
const LOGON_TIMEOUT_MS = 10_000;

export interface FixOptions extends FixLimits {
  host: string;
  port: number;
  compId: string;
  dataDir: string;
  /** Outgoing application messages kept per session for ResendRequest. */
  storeMessages: number;
  /** PEM files; both set: the acceptor speaks TLS. The passphrase of an encrypted key, or ''. */
  tlsCert: string;
  tlsKey: string;
  tlsPassphrase: string;
  /** Streams one FIX session may follow (--max-subscriptions, as for a WebSocket). */
  maxSubscriptions: number;
}

/**
 * The FIX 4.4 acceptor: a listening socket (TCP, or TLS with a certificate), one FixConnection
 * per client, and what they share: the renderer, the hub outlet, the per-SenderCompID stores and
 * the live-session table. Hand-written on node:net (see README, "FIX gateway", for the choice).
 */
export class FixAcceptor implements FixGateway {
  readonly renderer: FixRenderer;
  readonly outlet: FixOutlet;
  readonly live = new Map<string, FixConnection>();
  /** Refusals by `route code` (`fix:logon FIX_LOGON_REFUSED`), read by /metrics when scraped. */
  readonly refusals = new Map<string, number>();
  readonly compId: string;
  readonly limits: FixLimits;
  readonly budget: SessionBudget;
  private readonly stores = new Map<string, FixSessionStore>();
  private readonly connections = new Set<FixConnection>();
  private readonly server: net.Server;
  private timer: NodeJS.Timeout | null = null;
  private hubRef: SessionHub | null = null;
  private sessionIds = 0;

  constructor(
    private readonly options: FixOptions,
    readonly streams: StreamTable,
    instruments: readonly Instrument[],
    readonly authenticator: FixAuthenticator,
  ) {
    this.compId = options.compId;
    this.limits = { maxMessageBytes: options.maxMessageBytes, maxMessagesPerSecond: options.maxMessagesPerSecond };
    this.budget = { controlPerSecond: options.maxMessagesPerSecond, maxSubscriptions: options.maxSubscriptions };
    this.renderer = new FixRenderer(instruments);
    this.outlet = new FixOutlet(streams, this.renderer);
    const accept = (socket: net.Socket) => this.accept(socket);
    if (options.tlsCert !== '' || options.tlsKey !== '') {
      if (options.tlsCert === '' || options.tlsKey === '') throw new BookcastError('CONFIG_INVALID', 'a FIX TLS certificate and key go together');
      try {
        const cert = readFileSync(options.tlsCert);
        const key = readFileSync(options.tlsKey);
        this.server = tls.createServer({ cert, key, passphrase: options.tlsPassphrase || undefined }, accept);
      } catch (err) {
        // Unreadable files, a key that does not match or a wrong passphrase: a coded start failure.
        throw new BookcastError('CONFIG_INVALID', `FIX TLS: ${(err as Error).message}`);
      }
    } else {
      this.server = net.createServer(accept);
    }
  }

  /** The hub exists after the outlet it is built with; it is handed over before listening. */
  attach(hub: SessionHub): void {
    this.hubRef = hub;
  }

  get hub(): SessionHub {
    return this.hubRef!;
  }

  get tls(): boolean {
    return this.server instanceof tls.Server;
  }

  storeFor(sessionKey: string): FixSessionStore {
    let s = this.stores.get(sessionKey);
    if (s === undefined) {
      s = new FixSessionStore(path.join(this.options.dataDir, 'fix'), `${this.compId}-${sessionKey}`, this.options.storeMessages);
      this.stores.set(sessionKey, s);
    }
    return s;
  }

  nextSessionId(): number {
    // Apart from the WebSocket sessions' ids (which count up from 1).
    return -++this.sessionIds;
  }

  refused(route: string, code: string): void {
    const key = `${route} ${code}`;
    this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (err) => reject(new BookcastError('LISTEN_FAILED', `FIX port ${this.options.port}: ${err.message}`)));
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.timer = setInterval(() => this.tick(), TICK_MS);
    return (this.server.address() as net.AddressInfo).port;
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const c = new FixConnection(socket, this);
    this.connections.add(c);
    socket.once('close', () => this.connections.delete(c));
  }

  private tick(): void {
    const now = Date.now();
    for (const c of this.connections) {
      if (!c.loggedOn && now - c.openedAt > LOGON_TIMEOUT_MS) c.socket.destroy();
      else c.tick(now);
      c.flush();
    }
  }

  /** Logs every session out and stops listening. */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    for (const c of this.connections) c.logout('FIX_SHUTDOWN', 'the server is stopping');
    // Nothing sends after a Logout: the stores can be closed exactly now, whenever the sockets end.
    for (const s of this.stores.values()) s.release();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
