import { parseArgs } from 'node:util';
import { isReplay, loadConfig, replayWindow } from '../config';
import { ASK, BID } from '../model/book-types';
import type { Instrument } from '../model/instruments';
import { OrderBook } from '../engine/order-book';
import { BookcastError } from '../errors';
import { SymbolLookup } from '../gateway/symbol-lookup';
import { rebuildBooks } from '../source/journal-replay';
import { replayLobsterFile } from '../source/lobster-translator';
import { formatUnits } from '../util/decimal';
import { startCommand } from './start-command';

/**
 * `bookcast replay --source lobster:<message.csv> [--until <messages>] [--depth <levels>] [--json]`
 * `bookcast replay --source journal:<dir> [--from <time>] [--until <time>] [--symbol <symbol>] [--depth <levels>] [--json]`
 * `bookcast replay --source journal:<dir>|lobster:<message.csv> --serve [server options]`
 *
 * Replays a recording into fresh engine books and prints the books it ends with: a table each,
 * or with --json one line each {"symbol","sequence","bids":[[price,size],...],"asks":[...]}, best
 * levels first, prices and sizes as decimal strings. A journal prints every symbol it recorded,
 * or the one --symbol names, as it stood at --until; --from only says where a served replay
 * starts re-publishing (the books are built from the journal's start either way).
 *
 * With --serve it starts the server on that source instead (`bookcast start --source …`), which
 * re-publishes the recording over WebSocket in the live formats at --speed and prints where to
 * connect; every option of `bookcast --help` applies.
 *
 * Exit codes: 0 done (or, serving, stopped by a signal), 1 the replay failed (file or journal
 * missing or malformed, the file's two halves disagree, the server stopped on an error), 2 bad
 * usage (unknown option, a bad time or number, from after until, an unknown --symbol, an invalid
 * server option such as the data directory's own live journal).
 */

export const USAGE =
  'usage: bookcast replay --source lobster:<TICKER_DATE_START_END_message_N.csv> ' +
  '[--until <messages>] [--depth <levels, default 10>] [--json]\n' +
  '       bookcast replay --source journal:<dir> [--from <time>] [--until <time>] [--symbol <symbol>] ' +
  '[--depth <levels, default 10>] [--json]\n' +
  '       bookcast replay --source journal:<dir>|lobster:<file> --serve [--speed <N, 0 = full speed>] ' +
  '[--replay-time now|original] [--from <time>] [--until <time>] [--port <port>] [options of bookcast --help]\n' +
  '  times: ISO-8601 (2024-05-01T12:00:00.123456Z), epoch milliseconds or epoch microseconds\n';

const DEFAULT_DEPTH = 10;

export interface Output {
  write(text: string): unknown;
}

function wholeNumber(text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  return /^\d+$/.test(text) && Number(text) >= min && Number.isSafeInteger(Number(text)) ? Number(text) : NaN;
}

function levels(book: OrderBook, side: number, depth: number, priceDecimals: number, sizeDecimals: number): string[][] {
  const count = Math.min(depth, book.levelCount(side));
  const out: string[][] = [];
  for (let position = 0; position < count; position++) {
    out.push([
      formatUnits(book.levelPrice(side, position), priceDecimals),
      formatUnits(book.levelSize(side, position), sizeDecimals),
    ]);
  }
  return out;
}

function table(symbol: string, sequence: number, bids: string[][], asks: string[][]): string {
  const rows = Math.max(bids.length, asks.length);
  const width = [8, 12, 12, 8];
  const cell = (text: string, w: number) => text.padStart(w);
  let text = `${symbol}  sequence ${sequence}\n`;
  text += `${cell('bid size', width[0])} ${cell('bid', width[1])} | ${'ask'.padEnd(width[2])} ${'ask size'.padEnd(width[3])}\n`;
  for (let i = 0; i < rows; i++) {
    const bid = bids[i] ?? ['', ''];
    const ask = asks[i] ?? ['', ''];
    text += `${cell(bid[1], width[0])} ${cell(bid[0], width[1])} | ${ask[0].padEnd(width[2])} ${ask[1].padEnd(width[3])}`.trimEnd() + '\n';
  }
  return text;
}

/** One recorded book as printed. */
interface Printed {
  instrument: Instrument;
  book: OrderBook;
  sequence: number;
}

function print(printed: readonly Printed[], depth: number, json: boolean, stdout: Output): void {
  for (const [i, { instrument, book, sequence }] of printed.entries()) {
    const bids = levels(book, BID, depth, instrument.priceDecimals, instrument.sizeDecimals);
    const asks = levels(book, ASK, depth, instrument.priceDecimals, instrument.sizeDecimals);
    if (json) stdout.write(JSON.stringify({ symbol: instrument.symbol, sequence, bids, asks }) + '\n');
    else stdout.write((i > 0 ? '\n' : '') + table(instrument.symbol, sequence, bids, asks));
  }
}

/** `--serve`: the server on the recording; the rest of the options are the server's. */
async function serve(argv: string[], stderr: Output): Promise<number> {
  try {
    if (!isReplay(loadConfig(argv).source)) {
      stderr.write(`bookcast replay: --serve needs --source journal:<dir> or lobster:<message file>\n${USAGE}`);
      return 2;
    }
  } catch (error) {
    if (!(error instanceof BookcastError)) throw error;
    stderr.write(`bookcast replay: ${error.code}: ${error.message}\n${USAGE}`);
    return 2;
  }
  return startCommand(argv);
}

function usageError(stderr: Output, message: string): number {
  stderr.write(`bookcast replay: ${message}\n${USAGE}`);
  return 2;
}

export async function replayCommand(
  argv: string[],
  stdout: Output = process.stdout,
  stderr: Output = process.stderr,
): Promise<number> {
  if (argv.includes('--serve')) return serve(argv.filter((arg) => arg !== '--serve'), stderr);
  let values: { source?: string; from?: string; until?: string; symbol?: string; depth?: string; json?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        source: { type: 'string' },
        from: { type: 'string' },
        until: { type: 'string' },
        symbol: { type: 'string' },
        depth: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return usageError(stderr, (error as Error).message);
  }
  const source = values.source ?? '';
  const journal = source.startsWith('journal:');
  if (!/^(lobster|journal):./.test(source)) return usageError(stderr, '--source lobster:<message file> or journal:<dir> is required');
  const depth = wholeNumber(values.depth, DEFAULT_DEPTH, 1);
  if (Number.isNaN(depth)) return usageError(stderr, '--depth must be a positive whole number');
  if (!journal && (values.from !== undefined || values.symbol !== undefined)) {
    return usageError(stderr, '--from and --symbol apply to a journal; a LOBSTER file has one symbol and --until counts its messages');
  }
  const path = source.slice(source.indexOf(':') + 1);

  let printed: Printed[];
  try {
    if (journal) {
      let until: number;
      try {
        until = replayWindow(values.from ?? '', values.until ?? '').until;
      } catch (error) {
        return usageError(stderr, (error as Error).message);
      }
      const { instruments, books } = rebuildBooks(path, until);
      printed = instruments.map((instrument, i) => ({ instrument, book: books.books[i]!, sequence: books.sequences[i] }));
      if (values.symbol !== undefined) {
        const wanted = new SymbolLookup(instruments).find(values.symbol);
        if (wanted === undefined) {
          return usageError(stderr, `--symbol ${values.symbol} is not in the journal (${instruments.map((i) => i.symbol).join(', ')})`);
        }
        printed = [printed[wanted.index]];
      }
    } else {
      const until = wholeNumber(values.until, Infinity, 0);
      if (Number.isNaN(until)) return usageError(stderr, '--until must be a whole number of messages for a LOBSTER file');
      printed = [replayLobsterFile(path, { until })];
    }
  } catch (error) {
    if (!(error instanceof BookcastError)) throw error;
    stderr.write(`bookcast replay: ${error.code}: ${error.message}\n`);
    return 1;
  }
  print(printed, depth, values.json === true, stdout);
  return 0;
}
