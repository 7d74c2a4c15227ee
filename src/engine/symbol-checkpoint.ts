import { BookcastError } from '../errors';
import * as zlib from 'node:zlib';
import { ASK, BID, OK } from '../model/book-types';
import { CANDLE_SAVED_WORDS } from './candle-builder';
import type { OrderBook, OrderVisitor } from './order-book';
import type { SymbolState } from './symbol-state';
import { CHECKPOINT_FORMAT, WordCursor } from './word-cursor';

/**
 * A checkpoint of one symbol: everything its owner keeps that the journal's events change, as of
 * journal record J, so that loading it and applying records J+1.. gives what replaying the whole
 * journal gives (same sequences, checksums, trade ids, statistics and candles). Stream state
 * (who subscribes, prev_sequence per stream) and the mirror are not in it: a restart has no
 * subscribers, and the mirror is rewritten from the book.
 *
 * float64 words, little-endian (the host's order, like the journal):
 *
 *   0 magic 'BKCP'   1 format version   2 journal sequence J   3 instrument index   4 words in the file
 *   5 sequence   6 timestamp   7 nextTradeId   8 lastPrice   9 lastSize   10 lastSide   11 lastTradeId
 *   12 storedSequence   13 maxOrderId   14 maxTimestamp
 *   15 book, bids then asks, each side:
 *        L | L × (price, orders at the level), best level first | those orders × (orderId, size),
 *        level by level in queue order (time priority), so adding them in file order rebuilds the
 *        same queues
 *   .. candles in progress: clock | per interval: end, start, open, high, low, close, volume, notional, count,
 *      volume rest, notional rest (format 2; format 1 ends each interval at count)
 *   .. 24 h statistics: clock, volume, volume error (format 2), notional, notional error, count, last | n |
 *      9 columns × n buckets (format 1: 8, without the volume errors)
 *   last: CRC-32 of every byte before it
 *
 * An order costs 16 bytes, a level 16, a second of the 24 h window with trades 64; the rest is
 * under 500 bytes. Encoding is copying (no strings, no JSON), so the owner's pause is a few ms
 * for a book of 100k orders (figures in the README).
 */

/**
 * The event-ring record type of the checkpoint marker the source writes after journal record J
 * (payload: one float64, J). Event records use their kind (1..8) as type; this is none of them.
 */
export const RECORD_CHECKPOINT = 0x100;
export const CHECKPOINT_MARKER_BYTES = 8;

const MAGIC = 0x424b4350;
/** Formats this build reads; it writes CHECKPOINT_FORMAT. */
const READABLE_FORMATS = [1, CHECKPOINT_FORMAT];
export const H_JOURNAL_SEQUENCE = 2;
const H_INDEX = 3;
const H_WORDS = 4;
export const H_SEQUENCE = 5;
export const H_TIMESTAMP = 6;
const H_NEXT_TRADE_ID = 7;
const H_LAST_PRICE = 8;
const H_LAST_SIZE = 9;
const H_LAST_SIDE = 10;
const H_LAST_TRADE_ID = 11;
const H_STORED_SEQUENCE = 12;
export const H_MAX_ORDER_ID = 13;
export const H_MAX_TIMESTAMP = 14;
const HEADER_WORDS = 15;

/** Writes a side's orders as (orderId, size) pairs; forEachOrder visits them in file order. */
class OrderWriter implements OrderVisitor {
  out: WordCursor | null = null;

  visit(orderId: number, _price: number, size: number): void {
    this.out!.put(orderId);
    this.out!.put(size);
  }
}

const orderWriter = new OrderWriter();

/** The checkpoint of `s` as of journal record `journalSequence`, in a buffer of its own. */
export function encodeSymbolState(s: SymbolState, journalSequence: number): Float64Array {
  const book = s.book;
  const levels = book.levelCount(BID) + book.levelCount(ASK);
  const length = HEADER_WORDS + 2 + 2 * levels + 2 * book.orderCount + CANDLE_SAVED_WORDS + s.rolling24h.savedWords + 1;
  const out = new WordCursor(new Float64Array(length));
  out.put(MAGIC);
  out.put(CHECKPOINT_FORMAT);
  out.put(journalSequence);
  out.put(s.instrument.index);
  out.put(length);
  out.put(s.sequence);
  out.put(s.timestamp);
  out.put(s.nextTradeId);
  out.put(s.lastPrice);
  out.put(s.lastSize);
  out.put(s.lastSide);
  out.put(s.lastTradeId);
  out.put(s.storedSequence);
  out.put(s.maxOrderId);
  out.put(s.maxTimestamp);
  saveSide(book, BID, out);
  saveSide(book, ASK, out);
  s.candles.save(out);
  s.rolling24h.save(out);
  out.put(wordsCrc(out.words, length - 1));
  return out.words;
}

function saveSide(book: OrderBook, side: number, out: WordCursor): void {
  const levels = book.levelCount(side);
  out.put(levels);
  for (let p = 0; p < levels; p++) {
    out.put(book.levelPrice(side, p));
    out.put(book.levelOrderCount(side, p));
  }
  orderWriter.out = out;
  book.forEachOrder(side, orderWriter);
  orderWriter.out = null;
}

/**
 * Throws CHECKPOINT_CORRUPT unless `words` is an intact checkpoint of instrument `index` at
 * journal record `journalSequence` (`file` names it in the message).
 */
export function verifySymbolCheckpoint(words: Float64Array, file: string, journalSequence: number, index: number): void {
  const problem =
    words.length < HEADER_WORDS + 1 || words[0] !== MAGIC
      ? 'not a symbol checkpoint'
      : !READABLE_FORMATS.includes(words[1])
        ? `format version ${words[1]}, this build reads ${READABLE_FORMATS.join(' and ')}`
        : words[H_WORDS] !== words.length
          ? `${words.length * 8} bytes, its header says ${words[H_WORDS] * 8}`
          : words[words.length - 1] !== wordsCrc(words, words.length - 1)
            ? 'CRC mismatch'
            : words[H_JOURNAL_SEQUENCE] !== journalSequence || words[H_INDEX] !== index
              ? `it holds instrument ${words[H_INDEX]} at journal record ${words[H_JOURNAL_SEQUENCE]}`
              : null;
  if (problem !== null) {
    throw new BookcastError('CHECKPOINT_CORRUPT', `${file}: ${problem} (expected instrument ${index} at journal record ${journalSequence})`);
  }
}

/**
 * Loads a verified checkpoint into a freshly made SymbolState (nothing applied to it yet). Its
 * listener hears nothing: loading is not a change anyone subscribed to.
 */
export function restoreSymbolState(s: SymbolState, words: Float64Array): void {
  s.sequence = words[H_SEQUENCE];
  s.timestamp = words[H_TIMESTAMP];
  s.nextTradeId = words[H_NEXT_TRADE_ID];
  s.lastPrice = words[H_LAST_PRICE];
  s.lastSize = words[H_LAST_SIZE];
  s.lastSide = words[H_LAST_SIDE];
  s.lastTradeId = words[H_LAST_TRADE_ID];
  s.storedSequence = words[H_STORED_SEQUENCE];
  s.maxOrderId = words[H_MAX_ORDER_ID];
  s.maxTimestamp = words[H_MAX_TIMESTAMP];
  s.book.setListener(null);
  const input = loadBook(words, s.book);
  s.book.setListener(s.listener);
  s.candles.load(input, words[1]);
  s.rolling24h.load(input, words[1]);
  if (input.at !== words.length - 1) {
    throw new BookcastError('CHECKPOINT_CORRUPT', `symbol checkpoint of ${s.instrument.symbol} has ${words.length - 1 - input.at} words left over`);
  }
}

/**
 * Adds a checkpoint's resting orders to an empty `book` (one whose listener may hear them: the
 * caller decides), in time priority; returns a cursor just after the book section.
 */
export function loadBook(words: Float64Array, book: OrderBook): WordCursor {
  const input = new WordCursor(words, HEADER_WORDS);
  loadSide(book, BID, input);
  loadSide(book, ASK, input);
  return input;
}

function loadSide(book: OrderBook, side: number, input: WordCursor): void {
  const levels = input.take();
  const orders = new WordCursor(input.words, input.at + 2 * levels);
  for (let p = 0; p < levels; p++) {
    const price = input.take();
    const count = input.take();
    for (let k = 0; k < count; k++) {
      const orderId = orders.take();
      const status = book.add(orderId, side, price, orders.take());
      if (status !== OK) throw new BookcastError('CHECKPOINT_CORRUPT', `checkpoint order ${orderId} is rejected by the book (reject code ${status})`);
    }
  }
  input.at = orders.at;
}

/**
 * zlib's CRC-32 (Node >= 20.15; @types/node 20.9 does not declare it yet): native, ~5 GB/s here,
 * ten times the JavaScript one in util/crc32.ts, which matters at megabytes per checkpoint.
 */
const nativeCrc32 = (zlib as unknown as { crc32(data: Uint8Array): number }).crc32;

/** CRC-32 of the first `count` words' bytes. */
function wordsCrc(words: Float64Array, count: number): number {
  return nativeCrc32(new Uint8Array(words.buffer, words.byteOffset, count * 8));
}
