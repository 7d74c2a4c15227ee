/**
 * An example publisher: a small matching engine (the built-in market simulator) feeding a
 * bookcast started with --source ingest, through /ingest.
 *
 *   node dist/scripts/example-publisher.js --token <publisher token> [--url ws://127.0.0.1:8080/ingest]
 *     [--session <name>] [--rate <arrivals/s>] [--format flatbuffers|json] [--seconds <n>] [--seed <n>]
 *
 * It learns the symbols from bookcast's REST API, starts (or continues) its session, clears the
 * books it is about to fill (this engine keeps no state across runs), and then sends order flow
 * at the given rate, keeping every event until bookcast acknowledges it as durable. Stop it with
 * Ctrl-C: it waits for the last acks. Kill bookcast meanwhile and restart it: the publisher
 * reconnects and resends what was not durable, and nothing is lost or applied twice.
 */
import { parseArgs } from 'node:util';
import { EV_CLEAR } from '../src/model/events';
import { toInstrument, REFERENCE_PRICES } from '../src/model/instruments';
import { MarketSimulator } from '../src/source/market-simulator';
import { nowMicros } from '../src/util/clock';
import { IngestPublisher } from './ingest-publisher';

interface SymbolInfo {
  symbol: string;
  base: string;
  quote: string;
  tick_size: string;
  lot_size: string;
  min_order_size: string;
  status: string;
  price_decimals: number;
  size_decimals: number;
}

async function main(): Promise<void> {
  const { values: given } = parseArgs({
    options: {
      url: { type: 'string', default: 'ws://127.0.0.1:8080/ingest' },
      token: { type: 'string', default: process.env.BOOKCAST_PUBLISHER_TOKEN ?? '' },
      session: { type: 'string', default: `example-${new Date().toISOString().slice(0, 19).replace(/[-T:]/g, '')}` },
      rate: { type: 'string', default: '1000' },
      format: { type: 'string', default: 'flatbuffers' },
      seconds: { type: 'string', default: '0' },
      seed: { type: 'string', default: '7' },
    },
  });
  // Every option has a default.
  const values = given as { [K in keyof typeof given]-?: string };
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  if (values.format !== 'flatbuffers' && values.format !== 'json') throw new Error('--format is flatbuffers or json');
  if (!(rate > 0) || !(seconds >= 0)) throw new Error('--rate must be > 0 and --seconds >= 0');

  const rest = values.url.replace(/^ws/, 'http').replace(/\/ingest$/, '');
  const answer = (await (await fetch(`${rest}/api/v1/market/symbols`)).json()) as { symbols: SymbolInfo[] };
  const instruments = answer.symbols.map((s, i) =>
    toInstrument({ symbol: s.symbol, base: s.base, quote: s.quote, tickSize: s.tick_size, lotSize: s.lot_size, minOrderSize: s.min_order_size, status: 'online' }, i),
  );

  let lastError = '';
  const publisher = new IngestPublisher({
    url: values.url,
    token: values.token,
    session: values.session,
    format: values.format,
    symbols: instruments,
    onError: (e) => (lastError = `${e.code}: ${e.message}`),
  });
  const welcome = await publisher.connect();
  // This engine remembers nothing from an earlier run: it numbers on from where bookcast stands
  // and starts every book afresh.
  publisher.continueFrom(welcome.accepted_sequence);
  const started = nowMicros();
  for (const ins of instruments) publisher.push({ kind: EV_CLEAR, symbol: ins.index, side: 0, orderId: 0, newOrderId: 0, price: 0, size: 0, timestamp: started });
  const engine = new MarketSimulator(instruments, REFERENCE_PRICES, Number(values.seed), {
    event: (kind, symbol, side, orderId, price, size, newOrderId, timestamp) => publisher.push({ kind, symbol, side, orderId, newOrderId, price, size, timestamp }),
  });
  console.log(`publishing session ${welcome.session} to ${values.url} from sequence ${welcome.accepted_sequence + 1}: ${instruments.length} symbols, ${rate} arrivals/s, ${values.format}`);

  let arrivals = 0;
  let stalled = 0;
  let stopping = false;
  const tick = setInterval(() => {
    const due = Math.floor(((nowMicros() - started) * rate) / 1e6);
    while (arrivals < due && !stopping) {
      // A full window means bookcast is behind: the engine waits rather than drop anything.
      if (publisher.room() <= 0) {
        stalled++;
        break;
      }
      engine.arrival(nowMicros());
      arrivals++;
    }
    publisher.flush();
  }, 5);
  const report = setInterval(() => {
    console.log(`sequence ${publisher.last}, acknowledged ${publisher.acked}, connections ${publisher.connections}${stalled ? `, window full ${stalled}x` : ''}${lastError ? `, last error ${lastError}` : ''}`);
  }, 1000);

  const stop = async (): Promise<void> => {
    stopping = true;
    clearInterval(tick);
    publisher.flush();
    const deadline = Date.now() + 5000;
    while (publisher.acked < publisher.last && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    clearInterval(report);
    console.log(`stopped at sequence ${publisher.last}, acknowledged ${publisher.acked}`);
    await publisher.close();
  };
  process.once('SIGINT', () => void stop());
  if (seconds > 0) setTimeout(() => void stop(), seconds * 1000);
}

main().catch((err: Error) => {
  console.error(`example-publisher: ${err.message}`);
  process.exitCode = 1;
});
