import t from 'tap';
import { ASK, BID, LEVEL_UPDATE, OK } from '../../src/model/book-types';
import { toInstrument } from '../../src/model/instruments';
import { allocateMirror, BookMirrorReader, BookMirrorWriter, M_ASK_COUNT, M_BID_COUNT, M_HEADER_WORDS, M_SEQUENCE } from '../../src/engine/book-mirror';
import { SymbolState } from '../../src/engine/symbol-state';

const DEPTH = 20;
const quiet = { onOrder() {}, onLevel() {}, onTrade() {}, onCandle() {} };

function state(): SymbolState {
  const ins = toInstrument({ symbol: 'BTC/USD', base: 'BTC', quote: 'USD', tickSize: '0.1', lotSize: '0.00000001', minOrderSize: '0.00000001', status: 'online' }, 0);
  return new SymbolState(ins, quiet);
}

t.test('the reader computes the checksum the book has, from the levels it copied', async (t) => {
  // The worker no longer writes a checksum into the mirror; REST answers take the reader's.
  const sab = allocateMirror(1, DEPTH);
  const writer = new BookMirrorWriter(sab, 1, DEPTH);
  const reader = new BookMirrorReader(sab, 1, DEPTH);
  const s = state();
  let seed = 3;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  let id = 1;
  let mismatches = 0;
  let checked = 0;
  for (let round = 0; round < 400; round++) {
    const side = random() < 0.5 ? BID : ASK;
    const price = side === BID ? 450000 - Math.floor(random() * 30) : 450001 + Math.floor(random() * 30);
    if (s.book.add(id++, side, price, 1 + Math.floor(random() * 1e9)) !== OK) continue;
    if (round % 3 === 0 && id > 5) s.book.delete(1 + Math.floor(random() * (id - 1)));
    s.sequence++;
    s.touchAll();
    writer.write(s);
    // Any depth asked, even below ten: the checksum covers the top ten all the same.
    const v = reader.readBook(0, 1 + (round % DEPTH));
    t.equal(v[M_SEQUENCE], s.sequence);
    if (reader.checksum() !== s.book.checksum()) mismatches++;
    checked++;
  }
  t.equal(mismatches, 0, `${checked} books`);
  t.ok(reader.view[M_BID_COUNT] >= 10 && reader.view[M_ASK_COUNT] >= 10, 'books deeper than the checksum were covered');
  t.equal(reader.view[M_HEADER_WORDS], s.book.bestPrice(BID), 'levels are where the layout says');
});

t.test('writes that rewrite only the levels that changed leave the exact book', async (t) => {
  // As in the worker, the book's level changes (the DiffEmitter's onLevel) say which levels move:
  // several per write, in books from empty to twice the mirrored depth, read at every depth.
  const sab = allocateMirror(1, DEPTH);
  const writer = new BookMirrorWriter(sab, 1, DEPTH);
  const reader = new BookMirrorReader(sab, 1, DEPTH);
  const s = state();
  s.book.setListener({
    onOrder() {},
    onTrade() {},
    onLevel(side: number, _price: number, _size: number, position: number, change: number) {
      s.touchLevel(side, position, change !== LEVEL_UPDATE);
    },
  });
  let seed = 5;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const live: number[] = [];
  let id = 1;
  let wrong = 0;
  let deep = 0;
  for (let round = 0; round < 3000; round++) {
    // A few events per write, as a batch of the worker's; the book grows, then shrinks.
    const target = round < 1500 ? 120 : 10;
    for (let e = 0; e < 1 + Math.floor(random() * 4); e++) {
      if (live.length < target ? random() < 0.7 : random() < 0.3) {
        const side = random() < 0.5 ? BID : ASK;
        const price = side === BID ? 450000 - Math.floor(random() * 40) : 450001 + Math.floor(random() * 40);
        if (s.book.add(id, side, price, 1 + Math.floor(random() * 100)) === OK) live.push(id);
        id++;
      } else {
        const victim = live[Math.floor(random() * live.length)];
        const size = s.book.orderSize(victim);
        if (random() < 0.5 || size === 1) {
          s.book.delete(victim);
          live.splice(live.indexOf(victim), 1);
        } else s.book.modify(victim, size - 1);
      }
    }
    s.sequence++;
    writer.write(s);
    const levels = 1 + (round % DEPTH);
    const v = reader.read(0, levels);
    for (const side of [BID, ASK]) {
      const count = side === BID ? v[M_BID_COUNT] : v[M_ASK_COUNT];
      if (count !== Math.min(DEPTH, s.book.levelCount(side))) wrong++;
      if (s.book.levelCount(side) > DEPTH) deep++;
      for (let i = 0, w = M_HEADER_WORDS + (side === BID ? 0 : 2); i < Math.min(count, levels); i++, w += 4) {
        if (v[w] !== s.book.levelPrice(side, i) || v[w + 1] !== s.book.levelSize(side, i)) wrong++;
      }
    }
  }
  t.equal(wrong, 0, 'every level of every copy equals the book');
  t.ok(deep > 1000, `sides deeper than the mirror were copied (${deep})`);
});

t.test('an empty or one-sided book checksums as the book does', async (t) => {
  const sab = allocateMirror(1, DEPTH);
  const writer = new BookMirrorWriter(sab, 1, DEPTH);
  const reader = new BookMirrorReader(sab, 1, DEPTH);
  const s = state();
  writer.write(s);
  reader.readBook(0, 5);
  t.equal(reader.checksum(), 0);
  s.book.add(1, ASK, 450010, 7);
  s.touchAll();
  writer.write(s);
  reader.readBook(0, 5);
  t.equal(reader.checksum(), s.book.checksum());
});
