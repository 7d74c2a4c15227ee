import { loadConfig } from '../config';
import { BookcastError } from '../errors';
import { feedWordsLength, FEED_FRAMES } from '../model/feed-words';
import { toInstrument } from '../model/instruments';
import { CaptureWriter, CAPTURE_FORMAT, CAPTURE_VERSION } from '../feeds/capture-file';
import { FeedBooks } from '../feeds/feed-books';
import { FeedConnection } from '../feeds/feed-connection';
import { resolveFeedSource } from '../feeds/feed-reference';
import { feedEndpoints } from '../feeds/venues';
import { nowMicros } from '../util/clock';
import type { Output } from './replay-command';

/**
 * `bookcast record --source feed:<venue> --out <file> [--duration <seconds>] [--feed-* options]`
 *
 * Connects to the venue exactly as `--source feed:` does (the same adapter: it subscribes, asks
 * for REST snapshots and resubscribes to repair a book, so the file holds what a server would
 * have received) and writes every frame with its receive time to a capture (feeds/capture-file.ts).
 * No server runs and nothing is journaled. Stops on SIGINT/SIGTERM or after --duration seconds.
 *
 * Exit codes: 0 recorded, 1 failed (the venue's reference data, the file), 2 bad usage.
 */
export const RECORD_USAGE =
  'usage: bookcast record --source feed:<kraken|kraken-v1|binance|coinbase|bitfinex> --out <file> [--duration <seconds>] ' +
  '--feed-symbols <symbols> [--feed-url <ws url>] [--feed-rest-url <http url>] [--feed-depth <levels>]\n';

function take(argv: string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  if (at < 0) return undefined;
  const value = argv[at + 1];
  argv.splice(at, 2);
  return value;
}

export async function recordCommand(
  args: string[],
  stderr: Output = process.stderr,
  stopSignal: Promise<void> = new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  }),
): Promise<number> {
  const argv = [...args];
  const out = take(argv, '--out');
  const durationText = take(argv, '--duration');
  const duration = durationText === undefined ? Infinity : Number(durationText);
  if (out === undefined || out === '' || !(duration > 0)) {
    stderr.write(`bookcast record: --out <file> is required, --duration a positive number of seconds\n${RECORD_USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(argv);
    if (config.source.kind !== 'feed') throw new BookcastError('CONFIG_INVALID', '--source feed:<venue> is required');
  } catch (error) {
    if (!(error instanceof BookcastError)) throw error;
    stderr.write(`bookcast record: ${error.code}: ${error.message}\n${RECORD_USAGE}`);
    return 2;
  }
  let writer: CaptureWriter;
  let books: FeedBooks;
  let connection: FeedConnection;
  try {
    config = await resolveFeedSource(config);
    const source = config.source as Extract<typeof config.source, { kind: 'feed' }>;
    const endpoints = feedEndpoints(source.venue, source.url, source.restUrl);
    const instruments = config.instruments.map((spec, i) => toInstrument(spec, i));
    writer = new CaptureWriter(out, { format: CAPTURE_FORMAT, version: CAPTURE_VERSION, venue: source.venue, depth: source.depth, ...endpoints, symbols: source.symbols }, nowMicros());
    // The adapter still validates and repairs (its requests are part of the traffic); its events go nowhere.
    const discard = { event: () => undefined };
    books = new FeedBooks(source.venue, instruments, source.symbols, discard, new Float64Array(feedWordsLength(instruments.length)), (line) => stderr.write(line + '\n'));
    connection = new FeedConnection({ ...endpoints, quality: books.quality, recorder: writer, afterInput: () => undefined });
    connection.start(books.connect(connection, source.depth));
    stderr.write(`bookcast record: recording ${source.venue} (${source.symbols.map((s) => s.venueSymbol).join(', ')}) into ${out}\n`);
  } catch (error) {
    if (!(error instanceof BookcastError)) throw error;
    stderr.write(`bookcast record: ${error.code}: ${error.message}\n`);
    return 1;
  }
  let timer: NodeJS.Timeout | undefined;
  const elapsed = Number.isFinite(duration) ? new Promise<void>((resolve) => (timer = setTimeout(resolve, duration * 1000))) : new Promise<void>(() => undefined);
  await Promise.race([stopSignal, elapsed]);
  clearTimeout(timer);
  await connection.stop();
  await writer.close();
  stderr.write(`bookcast record: ${books.quality.words[FEED_FRAMES]} frames, ${writer.records} records in ${out}\n`);
  return 0;
}
