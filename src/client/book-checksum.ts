import { crc32 } from '../util/crc32';
import type { Level } from './messages';

const ascii = new TextEncoder();

/** Drops the point and the leading zeros, as the checksum spells a decimal ("0.00017" → "17"). */
function digits(decimal: string): string {
  return decimal.replace('.', '').replace(/^0+/, '');
}

/**
 * The book checksum the server sends with every L2 message (README, sequences and checksums):
 * Kraken's WebSocket v2 CRC32 over the top 10 asks ascending then the top 10 bids descending,
 * each level's price then size as decimal strings without the point and leading zeros.
 * Computed from the client's own strings, so a match verifies the whole top 10.
 */
export function bookChecksum(bids: readonly Level[], asks: readonly Level[]): number {
  let text = '';
  for (let i = 0; i < asks.length && i < 10; i++) text += digits(asks[i][0]) + digits(asks[i][1]);
  for (let i = 0; i < bids.length && i < 10; i++) text += digits(bids[i][0]) + digits(bids[i][1]);
  return crc32(ascii.encode(text));
}
