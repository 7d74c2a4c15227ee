import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OrderBook } from '../../src/engine/order-book';
import { findLobsterSamples, lobsterDataDir } from '../../src/source/lobster-files';
import { replayLobsterFile } from '../../src/source/lobster-translator';
import { runStandalone } from '../standalone';
import { EventRecorder, replay, timeReplays } from './event-records';

/**
 * LobsterApply: events/s through applyEvent() into one book, on real Nasdaq order flow (the
 * LOBSTER samples, 2012-06-21). Each sample is first translated into 64-byte event records
 * (seeded and learned hidden liquidity included), so neither parsing nor translation is timed;
 * then the records are replayed from an empty book (clear(), keeping its grown arrays) for
 * the time given. The translation itself (parse both files, shadow book, engine book) is
 * timed separately once per sample, as messages/s.
 */

interface SampleResult {
  sample: string;
  messages: number;
  events: number;
  translateMessagesPerSecond: number;
  eventsPerSecond: number;
  nsPerEvent: number;
  replays: number;
  restingOrdersAtEnd: number;
}

function measure(messagePath: string, seconds: number): SampleResult {
  const recorder = new EventRecorder();
  const started = performance.now();
  const result = replayLobsterFile(messagePath, { sink: recorder });
  const translateMs = performance.now() - started;
  const events = recorder.count;
  const book = new OrderBook(1, 1, null);
  if (replay(book, recorder.words, events) !== 0) throw new Error(`${messagePath}: recorded events were rejected`);
  const rate = timeReplays(book, recorder.words, events, seconds);
  return {
    sample: basename(messagePath),
    messages: result.rows,
    events,
    translateMessagesPerSecond: Math.round((result.rows * 1000) / translateMs),
    eventsPerSecond: rate.eventsPerSecond,
    nsPerEvent: rate.nsPerEvent,
    replays: rate.replays,
    restingOrdersAtEnd: book.orderCount,
  };
}

export async function run(opts: { seconds: number; dir?: string }): Promise<object> {
  const dir = opts.dir ?? lobsterDataDir();
  const samples = findLobsterSamples(dir);
  if (samples.length === 0) {
    return { name: 'LobsterApply', skipped: `no LOBSTER samples in ${dir} (set BOOKCAST_LOBSTER_DIR)` };
  }
  const share = opts.seconds / samples.length;
  return { name: 'LobsterApply', samples: samples.map((path) => measure(path, share)) };
}

if (require.main === module) runStandalone(run, 10);
