/**
 * A book worker: the single writer of the books it owns. Runs inside a worker_thread; the main
 * side never imports this file (it talks through worker-protocol.ts and the rings).
 *
 * Loop: drain control requests, then up to BATCH events; publish the diffs they produced with one
 * store; refresh the shared-memory mirror of every book that changed; when there was no work,
 * spin briefly and then sleep on the doorbell.
 *
 * Start-up loads the owned symbols from a checkpoint, if the pool names one; a checkpoint marker
 * in the event ring (after journal record J) has the worker encode its symbols as of J and hand
 * the buffers to the main thread, which writes them (symbol-checkpoint.ts, checkpoint-coordinator.ts).
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Doorbell } from '../ring/doorbell';
import { RecordHandler, SpscRing } from '../ring/spsc-ring';
import { SharedLatencyWriter } from '../ring/shared-latency';
import { RingGroup } from '../ring/ring-group';
import { BackoffIdleStrategy } from '../ring/idle-strategy';
import { MessageEncoder } from '../wire/message-encoder';
import { applyInput } from './apply-input';
import { OK, REJECT_UNKNOWN_SYMBOL, REJECT_BAD_EVENT } from '../model/book-types';
import { BookMirrorWriter } from './book-mirror';
import { DiffEmitter } from './diff-emitter';
import { EVENT_BYTES, W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../model/events';
import { CTRL_DEACTIVATE, CTRL_SNAPSHOT, controlRequest, controlStream, typeSymbol } from '../model/out-records';
import { indexOf, STREAM_CANDLES, STREAM_L3, STREAM_TICKER, STREAMS } from '../model/streams';
import { OutWriter } from './out-writer';
import { PersistWriter } from './persist-writer';
import { SymbolState } from './symbol-state';
import { RECORD_CHECKPOINT, encodeSymbolState, restoreSymbolState } from './symbol-checkpoint';
import { readSymbolCheckpoint } from './checkpoint-files';
import { nowMicros } from '../util/clock';
import { nameThread } from '../util/thread-name';
import { BookWorkerData, CheckpointReport, S_ACCEPTED, S_BATCHES, S_OUT_WAITS, S_PERSIST_WAITS, S_REJECTED, STATS_WORDS, WorkerReport } from './worker-protocol';

const BATCH = 512;
/**
 * Polls before the worker sleeps, about 20 µs; where no core is spare, only while the producer
 * is busy (see BackoffIdleStrategy): a wake-up costs ~10–50 µs, but on a machine with fewer cores
 * than busy threads a spin takes CPU from the threads that would give this one work.
 */
const IDLE_SPINS = 200;
/**
 * Once its queues are empty the worker sleeps on its doorbell until a producer's notify wakes
 * it, or PARK_MS at most. Nothing relies on the bound (both producers ring, the tick below runs
 * on event time, not on a timer, and terminate() interrupts the wait): it only caps what a
 * missed wake-up would cost. The sleep is the same length after work as after a long quiet: a
 * shorter first one (it was 1 ms, doubling) ended in a fruitless wake-up after nearly every
 * publication of a trickle, twice the wake-ups the events needed (~650 a second per worker at
 * 1k arrivals/s, ~320 without).
 */
const PARK_MS = 1000;
const CONTROL_BATCH = 64;

const data = workerData as BookWorkerData;
nameThread(`bookcast-book-${data.workerIndex}`);
const events = new SpscRing(data.eventRing);
const control = new SpscRing(data.controlRing);
/** Both producers ring the worker's doorbell, so it sleeps on the pair. */
const inputs = new RingGroup(new Doorbell(data.doorbell), [control, events]);
const outWriter = new OutWriter(new SpscRing(data.outRing, new Doorbell(data.frontDoorbell)));
const persist = new PersistWriter(new SpscRing(data.persistRing, new Doorbell(data.persistDoorbell)));
const emitter = new DiffEmitter(new MessageEncoder(), outWriter, persist);
const snapshotIntervalUs = data.snapshotIntervalMs * 1000;
const mirror = new BookMirrorWriter(data.mirror, data.instruments.length, data.mirrorDepth);
const stats = new Float64Array(data.stats, 0, STATS_WORDS);
/**
 * One event in APPLY_SAMPLE_EVERY is timed: now minus its timestamp as the worker starts applying
 * it (a clock read, ~70–85 ns here). The stride does not depend on latency, so the quantiles are
 * those of all events, within sampling error.
 */
const APPLY_SAMPLE_EVERY = 16;
const applyLatency = new SharedLatencyWriter(data.applyLatency);
let unsampled = 0;

/** Indexed by instrument index; null for instruments another worker owns. */
const states: (SymbolState | null)[] = data.instruments.map(() => null);
const owned: SymbolState[] = [];
for (const index of data.owned) {
  const state = new SymbolState(data.instruments[index], emitter);
  states[index] = state;
  owned.push(state);
}

class EventHandler implements RecordHandler {
  onRecord(type: number, offset: number, length: number): void {
    const f = events.f64;
    const w = offset >>> 3;
    if (type === RECORD_CHECKPOINT) {
      checkpoint(f[w]);
      return;
    }
    if (length !== EVENT_BYTES) {
      stats[S_REJECTED + REJECT_BAD_EVENT]++;
      return;
    }
    const symbol = f[w + W_SYMBOL];
    const s = symbol >= 0 && symbol < states.length ? states[symbol] : null;
    const timestamp = f[w + W_TIMESTAMP];
    // Time passes when an event says so, at this exact point of the input: followers tick alike.
    if (timestamp >= nextTick) tick(timestamp);
    if (s === null) {
      stats[S_REJECTED + REJECT_UNKNOWN_SYMBOL]++;
      return;
    }
    if (++unsampled === APPLY_SAMPLE_EVERY) {
      unsampled = 0;
      applyLatency.record(nowMicros() - timestamp);
    }
    const status = applyInput(s, emitter, f[w + W_KIND], f[w + W_SIDE], f[w + W_ORDER_ID], f[w + W_PRICE], f[w + W_SIZE], f[w + W_NEW_ORDER_ID], timestamp);
    if (status === OK) stats[S_ACCEPTED]++;
    else stats[S_REJECTED + status]++;
  }
}

class ControlHandler implements RecordHandler {
  onRecord(type: number): void {
    const s = states[typeSymbol(type)];
    if (s === null || s === undefined) return;
    const stream = controlStream(type);
    const request = controlRequest(type);
    const depthIndex = indexOf(stream);
    const active = request === CTRL_SNAPSHOT;
    if ((request !== CTRL_SNAPSHOT && request !== CTRL_DEACTIVATE) || stream >= STREAMS) return;
    // A stream that starts afresh continues from the snapshot's sequence: its first update then
    // names the snapshot as prev_sequence.
    if (stream < STREAM_L3) {
      if (active && s.l2Active[depthIndex] === 0) s.l2Last[depthIndex] = s.sequence;
      s.setL2Active(depthIndex, active);
      if (active) emitter.l2Snapshot(s, depthIndex, 0);
    } else if (stream === STREAM_L3) {
      if (active && !s.l3Active) s.l3Last = s.sequence;
      s.l3Active = active;
      if (active) emitter.l3Snapshot(s, 0);
    } else if (stream === STREAM_TICKER) {
      s.tickerActive = active;
      if (active) emitter.ticker(s, true, 0);
    } else if (stream >= STREAM_CANDLES) {
      s.candleActive[depthIndex] = active ? 1 : 0;
      // Before any event the worker has no time of its own; a snapshot answers one subscriber, so
      // the wall clock there changes no sequenced message.
      if (active) emitter.candleSnapshot(s, depthIndex, clock > 0 ? clock : nowMicros());
    }
  }
}

/**
 * Encodes every owned symbol as of journal record `sequence` (every earlier record of this
 * worker's symbols has been applied: the marker follows them in the ring) and hands the buffers
 * to the main thread. Encoding is copying; the disk writes and fsyncs happen off this thread.
 */
function checkpoint(sequence: number): void {
  const started = performance.now();
  const report: CheckpointReport = { type: 'checkpoint', sequence, symbols: [], states: [], maxTimestamp: 0, encodeMicros: 0 };
  for (const s of owned) {
    report.symbols.push(s.instrument.index);
    report.states.push(encodeSymbolState(s, sequence));
    if (s.maxTimestamp > report.maxTimestamp) report.maxTimestamp = s.maxTimestamp;
  }
  report.encodeMicros = Math.round((performance.now() - started) * 1000);
  parentPort!.postMessage(report, report.states.map((words) => words.buffer as ArrayBuffer));
}

function refreshMirrors(): void {
  for (let i = 0; i < owned.length; i++) {
    const s = owned[i];
    if (!s.mirrorDirty) continue;
    s.mirrorDirty = false;
    mirror.write(s);
  }
}

/**
 * Once a second of event time: trades leave the 24 h window, candles close, and books that
 * changed are snapshotted for storage (every snapshotIntervalMs). The clock is the latest event
 * timestamp this worker has seen, never the wall clock, and a tick runs just before the first
 * event of each new second: a follower applying the same input (src/edge/) ticks at the same
 * points and sends the same bytes. The price: on a market where no event reaches a worker, its
 * candles close with its next event. Candles close CANDLE_GRACE_US after their end, so a trade
 * stamped just before the end that reaches the worker a little later still lands in its own candle.
 */
const TICK_US = 1_000_000;
const CANDLE_GRACE_US = 250_000;
let nextTick = 0;
/** The latest event time this worker has ticked at (µs). */
let clock = 0;

function tick(now: number): void {
  clock = now;
  nextTick = (Math.floor(now / TICK_US) + 1) * TICK_US;
  for (let i = 0; i < owned.length; i++) {
    const s = owned[i];
    const before = s.rolling24h.count;
    s.rolling24h.advance(now);
    if (s.rolling24h.count !== before) {
      // Trades left the 24 h window: the mirror and ticker subscribers hear the new figures.
      s.mirrorDirty = true;
      if (s.tickerActive) emitter.ticker(s, false, 0);
    }
    emitter.closeCandles(s, now - CANDLE_GRACE_US, now);
    if (s.sequence !== s.storedSequence && now - s.storedAt >= snapshotIntervalUs) {
      // Stamped with the book's last event time: the moment the snapshot describes.
      persist.book(s, data.snapshotDepth, s.timestamp);
      s.storedSequence = s.sequence;
      s.storedAt = now;
    }
  }
}

function run(): void {
  const eventHandler = new EventHandler();
  const controlHandler = new ControlHandler();
  const idle = new BackoffIdleStrategy(IDLE_SPINS, PARK_MS, data.spareCore);
  const from = data.checkpoint;
  const loading = performance.now();
  if (from !== null) for (const s of owned) restoreSymbolState(s, readSymbolCheckpoint(from, s.instrument.index));
  const loadMs = Math.round(performance.now() - loading);
  for (const s of owned) mirror.write(s);
  // A restored worker resumes the ticks where the one that made the checkpoint was.
  for (const s of owned) if (s.maxTimestamp > clock) clock = s.maxTimestamp;
  if (clock > 0) nextTick = (Math.floor(clock / TICK_US) + 1) * TICK_US;
  parentPort!.postMessage({ type: 'ready', checkpoint: from?.sequence ?? 0, loadMs } satisfies WorkerReport);
  for (;;) {
    let work = control.read(controlHandler, CONTROL_BATCH);
    work += events.read(eventHandler, BATCH);
    if (work > 0) {
      outWriter.publish();
      persist.publish();
      stats[S_BATCHES]++;
      stats[S_OUT_WAITS] = outWriter.waits;
      stats[S_PERSIST_WAITS] = persist.waits;
    }
    if (work > 0) refreshMirrors();
    idle.idle(work, inputs);
  }
}

try {
  run();
} catch (err) {
  const e = err as { code?: string; message?: string };
  parentPort!.postMessage({ type: 'error', code: e.code ?? 'WORKER_FAILED', message: String(e.message ?? err) } satisfies WorkerReport);
  throw err;
}
