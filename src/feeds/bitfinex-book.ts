import { OrderBook } from '../engine/order-book';
import { ASK, BID, OK } from '../model/book-types';
import { crc32 } from '../util/crc32';

/** Bitfinex's book checksum covers the best 25 orders (raw books) of each side. */
export const BITFINEX_CHECKSUM_ORDERS = 25;

/**
 * An order on `book` (an OrderBook of venue ids) now rests on `side` at `price` with `size`
 * (0: gone). Returns false when the engine refuses it (a price or size off the tick or lot).
 */
export function setOrder(book: OrderBook, side: number, orderId: number, price: number, size: number): boolean {
  if (book.hasOrder(orderId) && (size === 0 || book.orderSide(orderId) !== side)) book.delete(orderId);
  if (size === 0) return true;
  if (!book.hasOrder(orderId)) return book.add(orderId, side, price, size) === OK;
  const resting = book.orderSize(orderId);
  if (price !== book.orderPrice(orderId) || size > resting) return book.replace(orderId, orderId, price, size) === OK;
  return size < resting ? book.modify(orderId, size) === OK : true;
}

/** Orders resting on one side. */
export function sideOrderCount(book: OrderBook, side: number): number {
  let n = 0;
  for (let i = 0; i < book.levelCount(side); i++) n += book.levelOrderCount(side, i);
  return n;
}

/** The ids of the best `n` orders of a side: price first, then (Bitfinex ids grow with time) lowest id first. */
export function bestOrders(book: OrderBook, side: number, n: number): number[] {
  const out: number[] = [];
  for (let level = 0; level < book.levelCount(side) && out.length < n; level++) {
    const ids: number[] = [];
    for (let id = book.firstOrderAt(side, level); id !== 0; id = book.nextOrder(id)) ids.push(id);
    ids.sort((a, b) => a - b);
    for (const id of ids) if (out.length < n) out.push(id);
  }
  return out;
}

/**
 * Bitfinex's raw-book checksum: CRC32 (signed 32-bit, as Bitfinex sends it) of the text
 * `bid0.id:bid0.amount:ask0.id:ask0.amount:bid1.id:…` over the best 25 orders of each side,
 * interleaved, amounts as Bitfinex writes them on the wire (JSON numbers, asks negative). A
 * JSON number's text is JavaScript's shortest round-trip form of the double, and units / 10^d
 * is the double nearest the decimal (both integers are exact below 2^53, the division is
 * correctly rounded), so String() of it is the venue's text.
 */
export function bitfinexRawChecksum(book: OrderBook, sizeDecimals: number): number {
  const bids = bestOrders(book, BID, BITFINEX_CHECKSUM_ORDERS);
  const asks = bestOrders(book, ASK, BITFINEX_CHECKSUM_ORDERS);
  const scale = 10 ** sizeDecimals;
  const parts: string[] = [];
  for (let i = 0; i < BITFINEX_CHECKSUM_ORDERS; i++) {
    if (i < bids.length) parts.push(String(bids[i]), String(book.orderSize(bids[i]) / scale));
    if (i < asks.length) parts.push(String(asks[i]), String(-book.orderSize(asks[i]) / scale));
  }
  return crc32(new TextEncoder().encode(parts.join(':'))) | 0;
}
