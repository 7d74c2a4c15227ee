import t from 'tap';
import { basename } from 'node:path';
import { ASK, BID, OK } from '../../src/model/book-types';
import { OrderBook } from '../../src/engine/order-book';
import {
  LOBSTER_ADD,
  LOBSTER_EXECUTE,
  LobsterBookReader,
  LobsterMessageReader,
  findLobsterSamples,
  lobsterDataDir,
  lobsterFiles,
} from '../../src/source/lobster-files';
import { replayLobsterFile } from '../../src/source/lobster-translator';
import { topLevelsDiffer } from './lobster-fixtures';

/**
 * Replays every LOBSTER sample (see /work/shared/data/README.md; BOOKCAST_LOBSTER_DIR overrides
 * the folder) and checks the ENGINE book, built only from the translator's events, against
 * every orderbook row: all N levels, both sides.
 */

const dir = lobsterDataDir();
const samples = findLobsterSamples(dir);

if (samples.length === 0) {
  const why = `LOBSTER samples not found in ${dir} (set BOOKCAST_LOBSTER_DIR to the folder holding them)`;
  if (process.env.CI === 'true') t.fail(`${why}; CI=true requires them`);
  else t.plan(0, why);
} else {
  for (const messagePath of samples) {
    const name = basename(messagePath);

    t.test(`${name}: the engine book equals every orderbook row`, async (t) => {
      const { depth } = lobsterFiles(messagePath);
      let differing = 0;
      let first = '';
      const result = replayLobsterFile(messagePath, {
        onRow: (row, book, bookRow) => {
          const difference = topLevelsDiffer(book, bookRow, depth, 100);
          if (difference === null) return;
          if (differing++ === 0) first = `row ${row}: ${difference}`;
        },
      });
      t.equal(differing, 0, first || 'every row matches');
      t.equal(result.rejects, 0, 'the engine book rejects nothing');
      t.equal(result.sequence, result.stats.events, 'every event is accepted');
      t.ok(result.rows > 900, `${result.rows} rows replayed`);
      t.comment(`${name}: ${JSON.stringify(result.stats)}`);
    });

    t.test(`${name}: message i applied to row i-1 gives row i, but for slide-ins`, async (t) => {
      const files = lobsterFiles(messagePath);
      const depth = files.depth;
      const messages = new LobsterMessageReader(files.messagePath, files.midnightMicros);
      const rows = new LobsterBookReader(files.orderbookPath, depth);
      const previous = new Float64Array(4 * depth);
      // Raw LOBSTER prices, tick 1: this checks the data and the book, not the translator.
      const book = new OrderBook(1, 1, null);
      let checked = 0;
      let slideIns = 0;
      let failures = 0;
      let first = '';
      const fail = (what: string) => {
        if (failures++ === 0) first = `row ${rows.line}: ${what}`;
      };
      messages.next();
      rows.next();
      previous.set(rows.row);
      while (messages.next() && rows.next()) {
        book.clear();
        let id = 1;
        for (const side of [ASK, BID]) {
          const offset = side === ASK ? 0 : 2;
          for (let k = 0; k < depth && previous[4 * k + offset + 1] > 0; k++) {
            book.add(id++, side, previous[4 * k + offset], previous[4 * k + offset + 1]);
          }
        }
        const type = messages.type;
        if (type >= LOBSTER_ADD && type <= LOBSTER_EXECUTE) {
          const side = messages.direction === 1 ? BID : ASK;
          const status =
            type === LOBSTER_ADD
              ? book.add(1e12, side, messages.price, messages.size)
              : book.cancel(levelOrder(book, side, messages.price), messages.size);
          if (status !== OK) fail(`message type ${type} at ${messages.price} x ${messages.size} rejected (${status})`);
        }
        for (const side of [ASK, BID]) {
          const offset = side === ASK ? 0 : 2;
          const shown = Math.min(depth, book.levelCount(side));
          for (let k = 0; k < depth; k++) {
            const price = rows.row[4 * k + offset];
            const size = rows.row[4 * k + offset + 1];
            if (k < shown) {
              if (book.levelPrice(side, k) !== price || book.levelSize(side, k) !== size) {
                fail(`level ${k + 1}: expected ${book.levelPrice(side, k)} x ${book.levelSize(side, k)}, file ${price} x ${size}`);
              }
            } else if (size > 0) {
              // Beyond what row i-1 knew: only a level from below a full row i-1 may appear.
              const previousWorst = previous[4 * (depth - 1) + offset];
              const previousFull = previous[4 * (depth - 1) + offset + 1] > 0;
              const below = side === ASK ? price > previousWorst : price < previousWorst;
              if (previousFull && below) slideIns++;
              else fail(`level ${k + 1}: ${price} x ${size} appeared from nowhere`);
            }
          }
        }
        checked++;
        previous.set(rows.row);
      }
      t.equal(failures, 0, first || `${checked} rows follow from their message`);
      t.ok(slideIns > 0, `${slideIns} levels slid in from beyond depth ${depth}`);
    });
  }
}

/** The one order holding the level at `price` in a book built from a row, or 0 if none. */
function levelOrder(book: OrderBook, side: number, price: number): number {
  for (let k = 0; k < book.levelCount(side); k++) {
    if (book.levelPrice(side, k) === price) return book.firstOrderAt(side, k);
  }
  return 0;
}
