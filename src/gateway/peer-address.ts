import type { HttpResponse } from 'uWebSockets.js';
import { clientKey } from './connection-limits';

/** A peer's address as uWS writes it as text, and the key connection limits count it under. */
export interface PeerAddress {
  readonly text: string;
  readonly key: string;
}

/**
 * IPv4 peers (also mapped into IPv6) by their 32-bit number. uWS's text form formats the address
 * with sprintf into a new ArrayBuffer on every call (~3,400 instructions a REST answer under
 * callgrind, with the decode); the binary form skips the formatting, and a client's next request
 * finds its strings here, already hashed for the maps they key. Emptied when full: a bound, not
 * an eviction policy, since a miss costs only the formatting.
 */
const IPV4 = new Map<number, PeerAddress>();
const MAPPED_IPV4 = new Map<number, PeerAddress>();
const KEPT = 4096;

/** Two lower-case hex digits per byte, as uWS prints an IPv6 address (%02x, groups of two bytes). */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** The peer of `res`: one getpeername, no formatting for an IPv4 peer seen recently. */
export function peerAddress(res: HttpResponse): PeerAddress {
  const b = new Uint8Array(res.getRemoteAddress());
  if (b.length === 4) return ipv4(IPV4, b, 0);
  if (b.length === 16 && isMappedIpv4(b)) return ipv4(MAPPED_IPV4, b, 12);
  return known(uwsText(b));
}

/** The peer whose IPv4 address is b[at..at+3], from `cache` or formatted from all of `b`. */
function ipv4(cache: Map<number, PeerAddress>, b: Uint8Array, at: number): PeerAddress {
  const number = (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
  let peer = cache.get(number);
  if (peer === undefined) {
    if (cache.size >= KEPT) cache.clear();
    cache.set(number, (peer = known(uwsText(b))));
  }
  return peer;
}

function isMappedIpv4(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** What getRemoteAddressAsText gives for these bytes: %u.%u.%u.%u, or eight %02x%02x groups. */
export function uwsText(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) return '';
  let text = '';
  for (let i = 0; i < 16; i += 2) text += `${i === 0 ? '' : ':'}${HEX[b[i]]}${HEX[b[i + 1]]}`;
  return text;
}

function known(text: string): PeerAddress {
  return { text, key: clientKey(text) };
}
