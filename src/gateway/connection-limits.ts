import { BookcastError } from '../errors';

/**
 * Open WebSocket connections, in total and per client address, across every WebSocket endpoint
 * (`/ws`, the Market Data stream, `/ingest`). An upgrade is checked before it is accepted and
 * counted when it opens: uWS calls `open` from inside `res.upgrade`, so no other upgrade can pass
 * the check in between.
 */
export class ConnectionLimits {
  private total = 0;
  private readonly perClient = new Map<string, number>();
  /** Upgrades refused since start, by reason (health). */
  refusedTotal = 0;
  refusedPerIp = 0;

  constructor(
    readonly maxConnections: number,
    readonly maxConnectionsPerIp: number,
  ) {}

  get open(): number {
    return this.total;
  }

  /** Throws TOO_MANY_CONNECTIONS or TOO_MANY_CONNECTIONS_PER_IP when `client` may not open one more. */
  check(client: string): void {
    if (this.total >= this.maxConnections) {
      this.refusedTotal++;
      throw new BookcastError('TOO_MANY_CONNECTIONS', `the server holds its maximum of ${this.maxConnections} connections; retry later`);
    }
    if ((this.perClient.get(client) ?? 0) >= this.maxConnectionsPerIp) {
      this.refusedPerIp++;
      throw new BookcastError('TOO_MANY_CONNECTIONS_PER_IP', `an address may hold ${this.maxConnectionsPerIp} connections; close one first`);
    }
  }

  opened(client: string): void {
    this.total++;
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
  }

  closed(client: string): void {
    this.total--;
    const n = (this.perClient.get(client) ?? 1) - 1;
    if (n === 0) this.perClient.delete(client);
    else this.perClient.set(client, n);
  }
}

/**
 * The address a limit counts against. IPv4 as is (also when mapped into IPv6); IPv6 by its /64
 * prefix, because one subscriber usually holds a whole /64 and could otherwise pick a fresh
 * address for every connection.
 */
export function clientKey(address: string): string {
  const text = address.toLowerCase();
  const mapped = /^[0:]*:ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (mapped !== null) return mapped[1];
  if (!text.includes(':')) return text;
  const groups = expandIpv6(text);
  if (groups === null) return text;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** Eight 16-bit groups of an IPv6 address in any of its textual forms; null when it is not one. */
function expandIpv6(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}
