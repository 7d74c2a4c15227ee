import { performance } from 'node:perf_hooks';
import { basename } from 'node:path';
import { loadConfig } from '../../src/config';
import { REJECT_CODE_COUNT } from '../../src/model/book-types';
import { EventWriter } from '../../src/source/event-writer';
import { EV_CLEAR, EVENT_WORDS } from '../../src/model/events';
import { Instrument, toInstrument } from '../../src/model/instruments';
import { STREAM_L2, STREAM_L3, STREAM_TICKER } from '../../src/model/streams';
import { WorkerPool } from '../../src/engine/worker-pool';
import { S_ACCEPTED, S_OUT_WAITS, S_REJECTED } from '../../src/engine/worker-protocol';
import { BackoffIdleStrategy } from '../../src/ring/idle-strategy';
import { RingGroup } from '../../src/ring/ring-group';
import { SpscRing } from '../../src/ring/spsc-ring';
import type { RecordHandler } from '../../src/ring/spsc-ring';
import { findLobsterSamples, lobsterDataDir } from '../../src/source/lobster-files';
import { lobsterInstrument, replayLobsterFile } from '../../src/source/lobster-translator';
import { MarketSimulator } from '../../src/source/market-simulator';
import { machineBusySeconds, round, threadCpuSeconds } from '../system';
import { runStandalone } from '../standalone';
import { EventRecorder } from './event-records';

/**
 * WorkerThroughput: events/s that one book worker (the real WorkerPool, one worker) applies
 * while producing every diff it can: apply + diff encode + out-ring write. Events are generated
 * up front (MarketSimulator over 100 symbols; a LOBSTER sample replayed in passes separated by
 * EV_CLEAR) and fed through EventWriter as fast as the worker takes them, from the main thread,
 * which also drains the out-ring and counts its records. Each flow runs twice in the same
 * process: with no stream active (apply + mirror only) and with L2 depth 10, L3 and ticker
 * active on every symbol, so their ratio is the price of the diffs.
 *
 * On two cores the main thread (feed + drain) takes one and the worker the other. When it can
 * neither feed (IN_FLIGHT events queued) nor drain, the main thread parks on the doorbell the
 * worker rings when it publishes, as the front thread does, so it does not take CPU from the
 * worker on a busy machine. The worker's own CPU seconds are read from /proc, so events per
 * worker CPU-second stays meaningful when the machine is shared.
 */

const SIMULATED_SYMBOLS = 100;
/** Events written and not yet applied: below the 4 MiB event ring (~58k records) with margin,
 * so EventWriter never blocks the thread that must also drain the out-ring. */
const IN_FLIGHT = 32_768;
const FEED_CHUNK = 4096;
const DRAIN_LIMIT = 4096;
/** The feeder sleeps at most this long when it can neither feed nor drain: far less than the
 * IN_FLIGHT events queued for the worker take, so the worker never starves. */
const FEEDER_PARK_MS = 1;
const FEEDER_SPINS = 200;
/** Events per measurement per second of the scenario's budget (four measurements share it). */
const EVENTS_PER_BUDGET_SECOND = 300_000;
const MIN_EVENTS = 500_000;
const MAX_EVENTS = 8_000_000;
/** A sample smaller than this is too short to be worth replaying in passes. */
const MIN_LOBSTER_EVENTS = 10_000;

class OutCounter implements RecordHandler {
  records = 0;
  bytes = 0;

  onRecord(_type: number, _offset: number, length: number): void {
    this.records++;
    this.bytes += length;
  }
}

interface Flow {
  name: string;
  instruments: Instrument[];
  events: EventRecorder;
  /** Replay the recording in passes, each after an EV_CLEAR of every symbol, up to this many. */
  total: number;
}

function simulatorFlow(events: number): Flow {
  const config = loadConfig(['--symbols', '', '--symbol-count', String(SIMULATED_SYMBOLS)], {});
  const instruments = config.instruments.map((spec, i) => toInstrument(spec, i));
  const recorder = new EventRecorder();
  const simulator = new MarketSimulator(instruments, config.referencePrices, 1, recorder);
  let timestamp = Date.now() * 1000;
  while (recorder.count < events) simulator.arrival(timestamp++);
  return { name: `simulator, ${SIMULATED_SYMBOLS} symbols`, instruments, events: recorder, total: recorder.count };
}

function lobsterFlow(messagePath: string, events: number): Flow {
  const recorder = new EventRecorder();
  replayLobsterFile(messagePath, { sink: recorder });
  const ticker = basename(messagePath).split('_')[0];
  return { name: `LOBSTER ${basename(messagePath)}`, instruments: [lobsterInstrument(ticker, 0)], events: recorder, total: events };
}

function processed(stats: Float64Array): number {
  let n = stats[S_ACCEPTED];
  for (let code = 1; code < REJECT_CODE_COUNT; code++) n += stats[S_REJECTED + code];
  return n;
}

function rejected(stats: Float64Array): number {
  return processed(stats) - stats[S_ACCEPTED];
}

interface Measurement {
  flow: string;
  streams: string;
  events: number;
  eventsPerSecond: number;
  nsPerEvent: number;
  /** Events per CPU-second of the worker thread alone. */
  eventsPerWorkerCpuSecond: number | null;
  workerCpuShare: number | null;
  feederCpuShare: number | null;
  outRecordsPerEvent: number;
  outBytesPerEvent: number;
  outRecordsPerSecond: number;
  rejected: number;
  outRingWaits: number;
  machineBusyCores: number | null;
}

async function measure(flow: Flow, withStreams: boolean, timeoutMs: number): Promise<Measurement> {
  const threadsBefore = threadCpuSeconds();
  // Snapshots for storage are off the measured path here (an hour apart); trades and closed
  // candles still go to the persist ring, which this thread drains like the out-ring.
  const pool = new WorkerPool(flow.instruments, 1, { snapshotIntervalMs: 3_600_000, snapshotDepth: 50 });
  let failure: Error | null = null;
  try {
    await pool.start((err) => (failure = err));
    // The worker is the thread that appeared with the pool (Node may add idle helpers too; the
    // busiest new thread over the run is the worker).
    const newThreads = [...threadCpuSeconds().keys()].filter((tid) => !threadsBefore.has(tid));
    const channel = pool.channels[0];
    const stats = channel.stats;
    const out = channel.out;
    const counter = new OutCounter();
    const persist = new SpscRing(channel.persistRing);
    const persisted = new OutCounter();
    if (withStreams) {
      for (const ins of flow.instruments) {
        pool.requestSnapshot(ins.index, STREAM_L2);
        pool.requestSnapshot(ins.index, STREAM_L3);
        pool.requestSnapshot(ins.index, STREAM_TICKER);
      }
      const snapshots = flow.instruments.length * 3;
      while (counter.records < snapshots) {
        pool.flushControl();
        out.read(counter, DRAIN_LIMIT);
        if (failure) throw failure;
      }
    }
    counter.records = 0;
    counter.bytes = 0;

    const writer = new EventWriter([channel.eventRing], [channel.doorbell], pool.ownerOf);
    // Main thread, but nothing else runs on its event loop meanwhile: a blocking park is fine.
    const idle = new BackoffIdleStrategy(FEEDER_SPINS, FEEDER_PARK_MS);
    const outGroup = new RingGroup(pool.frontDoorbell, [out]);
    const words = flow.events.words;
    const recorded = flow.events.count;
    const total = flow.total;
    const deadline = performance.now() + timeoutMs;
    let fed = 0;
    let next = 0;
    let startAt = -1;
    let startDone = 0;
    let startCpu = new Map<number, number>();
    let startBusy: number | null = null;
    let endAt = 0;
    for (;;) {
      const done = processed(stats);
      if (startAt < 0 && done > 0) {
        startAt = performance.now();
        startDone = done;
        startCpu = threadCpuSeconds();
        startBusy = machineBusySeconds();
      }
      if (done >= total) {
        endAt = performance.now();
        break;
      }
      if (failure) throw failure;
      const room = Math.min(IN_FLIGHT - (fed - done), FEED_CHUNK, total - fed);
      let work = room > 0 ? room : 0;
      if (room > 0) {
        for (let i = 0; i < room; i++) {
          if (next === recorded) {
            next = 0;
            for (const ins of flow.instruments) writer.event(EV_CLEAR, ins.index, 0, 0, 0, 0, 0, 0);
            fed += flow.instruments.length;
            continue;
          }
          const w = next * EVENT_WORDS;
          writer.event(words[w], words[w + 1], words[w + 2], words[w + 3], words[w + 4], words[w + 5], words[w + 6], words[w + 7]);
          next++;
          fed++;
        }
        writer.publish();
      } else if (performance.now() > deadline) {
        throw Object.assign(new Error(`worker-throughput: ${flow.name} did not finish in ${timeoutMs} ms`), { code: 'BENCH_TIMEOUT' });
      }
      work += out.read(counter, DRAIN_LIMIT);
      work += persist.read(persisted, DRAIN_LIMIT);
      idle.idle(work, outGroup);
    }
    const endCpu = threadCpuSeconds();
    const endBusy = machineBusySeconds();
    // The batch that took the last event publishes its diffs right after counting it.
    const drainUntil = performance.now() + 50;
    while (performance.now() < drainUntil) {
      out.read(counter, DRAIN_LIMIT);
      persist.read(persisted, DRAIN_LIMIT);
    }

    const seconds = (endAt - startAt) / 1000;
    const events = total - startDone;
    const perSecond = events / seconds;
    const cpuOf = (tid: number) => (endCpu.get(tid) ?? 0) - (startCpu.get(tid) ?? 0);
    const workerCpu = newThreads.length === 0 ? null : Math.max(...newThreads.map(cpuOf));
    const feederCpu = endCpu.has(process.pid) ? cpuOf(process.pid) : null;
    return {
      flow: flow.name,
      streams: withStreams ? 'l2(10)+l3+ticker' : 'none',
      events,
      eventsPerSecond: Math.round(perSecond),
      nsPerEvent: round(1e9 / perSecond, 1),
      eventsPerWorkerCpuSecond: workerCpu ? Math.round(events / workerCpu) : null,
      workerCpuShare: workerCpu === null ? null : round(workerCpu / seconds, 2),
      feederCpuShare: feederCpu === null ? null : round(feederCpu / seconds, 2),
      outRecordsPerEvent: round(counter.records / total, 3),
      outBytesPerEvent: round(counter.bytes / total, 1),
      outRecordsPerSecond: Math.round((counter.records / total) * perSecond),
      rejected: rejected(stats),
      outRingWaits: stats[S_OUT_WAITS],
      machineBusyCores: startBusy === null || endBusy === null ? null : round((endBusy - startBusy) / seconds, 2),
    };
  } finally {
    await pool.stop();
  }
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const events = Math.min(MAX_EVENTS, Math.max(MIN_EVENTS, Math.round(opts.seconds * EVENTS_PER_BUDGET_SECOND)));
  const timeoutMs = 60_000 + opts.seconds * 10_000;
  const flows: Flow[] = [simulatorFlow(events)];
  const dir = lobsterDataDir();
  const lobster = findLobsterSamples(dir).map((path) => lobsterFlow(path, events)).filter((f) => f.events.count >= MIN_LOBSTER_EVENTS);
  lobster.sort((a, b) => b.events.count - a.events.count);
  flows.push(...(opts.full ? lobster : lobster.slice(0, 1)));
  const results: Measurement[] = [];
  for (const flow of flows) {
    results.push(await measure(flow, false, timeoutMs));
    results.push(await measure(flow, true, timeoutMs));
  }
  return {
    name: 'WorkerThroughput',
    goal: '2,000,000 events/s per worker core',
    lobster: lobster.length === 0 ? `skipped: no LOBSTER samples in ${dir} (set BOOKCAST_LOBSTER_DIR)` : `${lobster.length} samples`,
    results,
  };
}

if (require.main === module) runStandalone(run, 10);
