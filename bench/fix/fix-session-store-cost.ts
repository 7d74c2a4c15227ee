import * as hdr from 'hdr-histogram-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_INSTRUMENTS, toInstrument } from '../../src/model/instruments';
import { STREAM_L2 } from '../../src/model/streams';
import { frame, utcTimestamp } from '../../src/fix/fix-codec';
import { FixRenderer } from '../../src/fix/fix-render';
import { FixSessionStore, SEQ_RESERVE_BLOCK } from '../../src/fix/fix-session-store';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { runStandalone } from '../standalone';
import { loadAverage } from '../system';

/**
 * FixSessionStoreCost: what the durable session store adds per outgoing FIX message, on a real
 * file system (a temporary directory): `claim` (the MsgSeqNum, the resend ring), the resend log's
 * append (one write per event-loop turn of what the turn claimed) and, once per 10,000 numbers,
 * the reservation's fdatasync. One session, one thread; messages in turns of BATCH (as the hub
 * sends a burst of updates, then yields), each case for the given seconds:
 *   frameOnly   frame() of a 296-byte L2 X body per message: the session's work without a store
 *   withStore   claim() + frame() per message, and the store's per-turn log append
 * nsPerMessage is wall time over messages (the loop yields with setImmediate, so it includes the
 * turns' log appends); nsPerMessageMedianTurn is the median turn over BATCH, and storeAddsNs the
 * difference of those (the mean is inflated by descheduling on a loaded machine). turn* is each
 * turn's time (BATCH messages and the log append): a reservation block's fdatasync lands in the tail.
 */

const BATCH = 64;

function histogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 });
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function runCase(seconds: number, perMessage: (i: number) => void) {
  const h = histogram();
  let messages = 0;
  const started = process.hrtime.bigint();
  const until = started + BigInt(Math.round(seconds * 1e9));
  let now = started;
  while (now < until) {
    for (let i = 0; i < BATCH; i++) perMessage(messages + i);
    messages += BATCH;
    await turn();
    const after = process.hrtime.bigint();
    h.recordValue(Number(after - now));
    now = after;
  }
  const elapsedNs = Number(now - started);
  const result = {
    messages,
    messagesPerSecond: Math.round(messages / (elapsedNs / 1e9)),
    nsPerMessage: Math.round(elapsedNs / messages),
    /** From the median turn: what a message costs when the thread is not descheduled (a loaded machine inflates the mean). */
    nsPerMessageMedianTurn: Math.round(h.getValueAtPercentile(50) / BATCH),
    turnP50Us: Math.round(h.getValueAtPercentile(50) / 1000),
    turnP99Us: Math.round(h.getValueAtPercentile(99) / 1000),
    turnP999Us: Math.round(h.getValueAtPercentile(99.9) / 1000),
    turnMaxUs: Math.round(h.maxValue / 1000),
  };
  h.destroy();
  return result;
}

export async function run(opts: { seconds: number }) {
  const ins = toInstrument(DEFAULT_INSTRUMENTS[0], 0);
  const bytes = new MessageEncoder()
    .l2Update(new TextEncoder().encode(ins.symbol), 1234, Date.now() * 1000, 10, 1230, 987654321, new Float64Array([670001, 670000, 669990]), new Float64Array([150000, 0, 2500]), 3, new Float64Array([670010, 670020]), new Float64Array([100, 990000]), 2)
    .slice();
  const body = new FixRenderer([ins]).l2Update(STREAM_L2, bytes, ins)!;
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-fix-store-bench-'));
  const load = loadAverage();
  try {
    const store = new FixSessionStore(dir, 'BOOKCAST-BENCH', 10_000);
    const header = (seq: number, time: string) => '35=X\x0149=BOOKCAST\x0156=CLIENT1\x0134=' + seq + '\x0152=' + time + '\x01';
    const frameOnly = await runCase(opts.seconds, (i) => frame(header(i + 1, utcTimestamp(Date.now())), body));
    const withStore = await runCase(opts.seconds, () => {
      const time = utcTimestamp(Date.now());
      frame(header(store.claim('X', body, time), time), body);
    });
    store.release();
    return {
      batch: BATCH,
      bodyBytes: body.bytes.length,
      reserveBlock: SEQ_RESERVE_BLOCK,
      frameOnly,
      withStore,
      storeAddsNs: withStore.nsPerMessageMedianTurn - frameOnly.nsPerMessageMedianTurn,
      loadAverage: load,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) runStandalone(run, 5);
