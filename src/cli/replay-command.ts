import { parseArgs } from 'node:util';
import { ASK, BID } from '../engine/book-types';
import { OrderBook } from '../engine/order-book';
import { LobsterError } from '../source/lobster-files';
import { replayLobsterFile } from '../source/lobster-translator';
import { formatUnits } from '../util/decimal';

/**
 * `bookcast replay --source lobster:<message.csv> [--until <messages>] [--depth <levels>] [--json]`
 *
 * Replays a recorded source into a fresh engine book and prints the book it ends with: a table,
 * or with --json one line {"symbol","sequence","bids":[[price,size],...],"asks":[...]}, best
 * levels first, prices and sizes as decimal strings. Exit codes: 0 done, 1 the replay failed
 * (file missing or malformed, or the file's two halves disagree), 2 bad usage.
 */

export const USAGE =
  'usage: bookcast replay --source lobster:<TICKER_DATE_START_END_message_N.csv> ' +
  '[--until <messages>] [--depth <levels, default 10>] [--json]\n';

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

export async function replayCommand(
  argv: string[],
  stdout: Output = process.stdout,
  stderr: Output = process.stderr,
): Promise<number> {
  let values: { source?: string; until?: string; depth?: string; json?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        source: { type: 'string' },
        until: { type: 'string' },
        depth: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    stderr.write(`bookcast replay: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const source = values.source;
  if (source === undefined || !source.startsWith('lobster:') || source.length === 'lobster:'.length) {
    stderr.write(`bookcast replay: --source lobster:<message file> is required\n${USAGE}`);
    return 2;
  }
  const until = wholeNumber(values.until, Infinity, 0);
  const depth = wholeNumber(values.depth, DEFAULT_DEPTH, 1);
  if (Number.isNaN(until) || Number.isNaN(depth)) {
    stderr.write(`bookcast replay: --until must be a whole number and --depth a positive one\n${USAGE}`);
    return 2;
  }

  let result;
  try {
    result = replayLobsterFile(source.slice('lobster:'.length), { until });
  } catch (error) {
    if (error instanceof LobsterError) {
      stderr.write(`bookcast replay: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const { instrument, book, sequence } = result;
  const bids = levels(book, BID, depth, instrument.priceDecimals, instrument.sizeDecimals);
  const asks = levels(book, ASK, depth, instrument.priceDecimals, instrument.sizeDecimals);
  if (values.json === true) {
    stdout.write(JSON.stringify({ symbol: instrument.symbol, sequence, bids, asks }) + '\n');
  } else {
    stdout.write(table(instrument.symbol, sequence, bids, asks));
  }
  return 0;
}
