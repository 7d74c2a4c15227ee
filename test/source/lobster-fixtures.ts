import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASK, BID } from '../../src/model/book-types';
import { OrderBook } from '../../src/engine/order-book';

/** Tiny hand-written LOBSTER files for unit tests; the real samples never enter the repository. */

export const FIXTURE_PREFIX = 'TEST_2012-06-21_34200000_57600000';

/** Writes a message/orderbook pair into `dir` and returns the message file's path. */
export function writeLobsterPair(dir: string, depth: number, messages: string[], rows: string[]): string {
  const messagePath = join(dir, `${FIXTURE_PREFIX}_message_${depth}.csv`);
  writeFileSync(messagePath, messages.map((line) => line + '\n').join(''));
  writeFileSync(join(dir, `${FIXTURE_PREFIX}_orderbook_${depth}.csv`), rows.map((line) => line + '\n').join(''));
  return messagePath;
}

/**
 * Where the book's top `depth` levels differ from a raw LOBSTER orderbook row whose prices are
 * `scale` times the book's; null when they agree (an empty row level means no book level there).
 */
export function topLevelsDiffer(book: OrderBook, row: ArrayLike<number>, depth: number, scale: number): string | null {
  for (let k = 0; k < depth; k++) {
    for (const side of [ASK, BID]) {
      const offset = side === ASK ? 0 : 2;
      const price = row[4 * k + offset];
      const size = row[4 * k + offset + 1];
      const name = side === ASK ? 'ask' : 'bid';
      if (size === 0) {
        if (price !== (side === ASK ? 9999999999 : -9999999999)) return `${name} ${k + 1}: empty level with price ${price}`;
        if (book.levelCount(side) > k) {
          return `${name} ${k + 1}: file empty, book ${book.levelPrice(side, k) * scale} x ${book.levelSize(side, k)}`;
        }
      } else if (book.levelPrice(side, k) * scale !== price || book.levelSize(side, k) !== size) {
        return `${name} ${k + 1}: file ${price} x ${size}, book ${book.levelPrice(side, k) * scale} x ${book.levelSize(side, k)}`;
      }
    }
  }
  return null;
}
