import t from 'tap';
import { MSG_TICKER, OUT_HEADER_BYTES, typeMessage } from '../../src/model/out-records';
import { MessageEncoder } from '../../src/wire/message-encoder';
import type { SymbolState } from '../../src/engine/symbol-state';
import { apply, events, Owner, SECOND, tick } from './fixtures/symbol-flow';

const reference = new MessageEncoder();
const quote = new Float64Array(4);

/** The ticker of the symbol's state as it is now, by the Builder. */
function tickerOf(s: SymbolState): string {
  s.book.bestLevels(quote);
  const st = s.rolling24h;
  const bytes = reference.ticker(s.symbolBytes, s.sequence, s.timestamp, quote[0], quote[1], quote[2], quote[3], s.lastPrice, s.lastSize, st.volume, st.high, st.low, st.open, st.volumeRest);
  return Buffer.from(bytes).toString('hex');
}

// Tickers are made from the symbol's last one (wire/fast-encoder.ts, TickerTemplate): between
// trades only the quote is stored anew. Every ticker must still be the one the state at that
// moment makes, through trades, the window emptying and filling, a cleared book and rejects.
t.test('every ticker the emitter writes is the ticker of the state it was written in', async (t) => {
  for (const seed of [1, 2, 3]) {
    const list = events(6000, seed);
    const owner = new Owner();
    owner.subscribeAll();
    owner.drain();
    let tickers = 0;
    let wrong = 0;
    const layouts = new Set<string>();
    // Each event, and now and then a tick, checked as soon as it wrote.
    const steps = list.flatMap((event, i) => (i % 50 === 0 ? [() => apply(owner, event), () => tick(owner, event[7] + 3 * SECOND)] : [() => apply(owner, event)]));
    for (let i = 0; i < steps.length && wrong < 3; i++) {
      steps[i]();
      for (const record of owner.drain()) {
        const [type, payload] = record.split(':');
        if (typeMessage(Number(type)) !== MSG_TICKER) continue;
        // The record holds the sequence, then the message.
        const hex = payload.slice(2 * OUT_HEADER_BYTES);
        tickers++;
        layouts.add(`${hex.length}:${owner.state.rolling24h.count > 0}:${owner.state.book.levelCount(0) > 0}`);
        const expected = tickerOf(owner.state);
        if (hex !== expected) {
          wrong++;
          t.equal(hex, expected, `seed ${seed}, step ${i}: the ticker`);
        }
      }
    }
    t.equal(wrong, 0, `seed ${seed}: ${tickers} tickers, each the state's own`);
    t.ok(tickers > 1000, `seed ${seed}: a ticker whenever the best price moved or a trade happened (${tickers})`);
    t.ok(layouts.size >= 3, `seed ${seed}: through ${layouts.size} layouts (an empty window or book changes which fields are sent)`);
  }
});
