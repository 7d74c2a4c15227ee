import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EventSink } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, REFERENCE_PRICES, toInstrument } from '../../src/model/instruments';
import { JournalWriter } from '../../src/journal/journal-writer';
import { MarketSimulator } from '../../src/source/market-simulator';
import { DataDir } from '../gateway/data-dir';
import { ServerProcess, delay } from '../gateway/server-process';
import { runStandalone } from '../standalone';

/**
 * RestartTime: how long `bookcast --source none` takes from spawn to listening on a journal of
 * millions of events (the default five symbols, simulator flow, 1 ms apart), with and without a
 * checkpoint. Every start includes Node, the embedded store (PGlite) and the threads: the
 * "empty" start shows that constant. The server's own figures separate the part that depends on
 * the journal: loadMs (book workers loading the checkpoint) and restoreMs (the source handing the
 * journal after it to the books), from GET /api/v1/health.
 *
 * - empty: a fresh data directory;
 * - no checkpoint: the whole journal replayed (--checkpoint-events 0 --checkpoint-interval-ms 0);
 * - checkpoint, no tail: a second start after one that replayed everything and checkpointed it;
 * - checkpoint + tail: after appending `tail` more events to the journal.
 *
 * `seconds` is not a time budget here: the journal is 1 M events (full suite: 3 M).
 */

const TAIL = 500_000;
const START_TIMEOUT_MS = 600_000;

const instruments = DEFAULT_INSTRUMENTS.map((spec, i) => toInstrument(spec, i));

/** Simulated flow journaled as the source thread would, one part at a time; 1 ms per arrival, ending about now. */
class Recorder implements EventSink {
  private readonly words = new Float64Array(8);
  private journal: JournalWriter | null = null;
  private readonly simulator = new MarketSimulator(instruments, REFERENCE_PRICES, 3, this);
  private ts = Date.now() * 1000 - 4 * 3_600_000_000;

  event(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number, timestamp: number): void {
    this.words.set([kind, symbol, side, orderId, price, size, newOrderId, timestamp]);
    this.journal!.append(this.words, 0);
  }

  /** Appends arrivals until the journal in `dir` holds `records`. */
  recordUntil(dir: string, records: number): void {
    const journal = JournalWriter.open(dir);
    this.journal = journal;
    while (journal.nextSequence <= records) this.simulator.arrival((this.ts += 1000));
    journal.close();
    this.journal = null;
  }
}

/** The parts of GET /api/v1/health this benchmark reads. */
interface RestartHealth {
  source: { restored_from_journal: number; restore_ms: number };
  checkpoints: { restored_from: number | null; load_ms: number; completed: number; failed: number; last_bytes: number; last_write_ms: number };
}

const health = async (server: ServerProcess): Promise<RestartHealth> => (await server.health()) as unknown as RestartHealth;

async function timedStart(args: string[]): Promise<{ ms: number; server: ServerProcess; health: RestartHealth }> {
  const t0 = performance.now();
  const server = await ServerProcess.start(['--port', '0', '--source', 'none', ...args], START_TIMEOUT_MS);
  const ms = Math.round(performance.now() - t0);
  return { ms, server, health: await health(server) };
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const events = opts.full ? 3_000_000 : 1_000_000;
  const data = new DataDir();
  const results: object[] = [];
  try {
    const empty = await timedStart(data.args);
    await empty.server.stop();
    results.push({ scenario: 'empty', startMs: empty.ms });

    const recorder = new Recorder();
    recorder.recordUntil(join(data.path, 'journal'), events);
    const full = await timedStart([...data.args, '--checkpoint-events', '0', '--checkpoint-interval-ms', '0']);
    await full.server.stop();
    results.push({ scenario: 'no checkpoint', journalEvents: events, startMs: full.ms, restoreMs: full.health.source.restore_ms, replayed: full.health.source.restored_from_journal });

    // Replays everything, then checkpoints it (the tail is over --checkpoint-events).
    const first = await timedStart([...data.args, '--checkpoint-events', String(events / 2)]);
    let checkpoints = first.health.checkpoints;
    while (checkpoints.completed === 0 && checkpoints.failed === 0) {
      await delay(50);
      checkpoints = (await health(first.server)).checkpoints;
    }
    await first.server.stop();

    const fromCheckpoint = await timedStart(data.args);
    await fromCheckpoint.server.stop();
    results.push({
      scenario: 'checkpoint, no tail',
      journalEvents: events,
      startMs: fromCheckpoint.ms,
      loadMs: fromCheckpoint.health.checkpoints.load_ms,
      restoreMs: fromCheckpoint.health.source.restore_ms,
      restoredFrom: fromCheckpoint.health.checkpoints.restored_from,
      replayed: fromCheckpoint.health.source.restored_from_journal,
      checkpointBytes: checkpoints.last_bytes,
      checkpointWriteMs: checkpoints.last_write_ms,
    });

    recorder.recordUntil(join(data.path, 'journal'), events + TAIL);
    const withTail = await timedStart(data.args);
    await withTail.server.stop();
    results.push({
      scenario: `checkpoint + ${TAIL / 1000}k tail`,
      journalEvents: events + TAIL,
      startMs: withTail.ms,
      loadMs: withTail.health.checkpoints.load_ms,
      restoreMs: withTail.health.source.restore_ms,
      restoredFrom: withTail.health.checkpoints.restored_from,
      replayed: withTail.health.source.restored_from_journal,
    });
  } finally {
    data.remove();
  }
  return { results };
}

if (require.main === module) runStandalone(run, 0);
