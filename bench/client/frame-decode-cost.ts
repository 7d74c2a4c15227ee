import * as flatbuffers from 'flatbuffers';
import { L2Book } from '../../src/client';
import { Decimals, frameToMessage } from '../../src/client/flatbuffers-frames';
import type { L2UpdateMessage } from '../../src/client/messages';
import { DEFAULT_INSTRUMENTS, toInstrument } from '../../src/model/instruments';
import { Body } from '../../src/wire/generated/bookcast/wire/body';
import { Envelope } from '../../src/wire/generated/bookcast/wire/envelope';
import { L2Update } from '../../src/wire/generated/bookcast/wire/l2update';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { runStandalone } from '../standalone';
import { bestNsPerCall, loadAverage } from '../system';
import { measureAllocation } from '../wire/encode';

/**
 * FrameDecodeCost: a client process's CPU per FlatBuffers L2 update (BTC/USD, 3 bid and 2 ask
 * level changes), one thread, best of 5 rounds (ns per message) — whether the benchmark clients
 * (bench/gateway/*-client.ts) can use the SDK's frame decoding without the client, rather than the
 * server, becoming what is measured:
 *   envelopeRead   what latency-client.ts and held-client.ts read in place: the envelope's body
 *                  type, symbol bytes, sequence, timestamp and the update's prev_sequence (no
 *                  objects, no strings)
 *   sdkDecode      the SDK's frameToMessage: the whole frame as the JSON dialect's message
 *                  (decimal strings for every price and size, an ISO timestamp)
 *   sdkVerified    sdkDecode plus L2Book.applyUpdate: the sequence rule, the levels applied and
 *                  the checksum recomputed from the book's top 10 (what a BookcastClient does)
 * A client process has one core at most on this machine: 1e9 / ns is the messages/s it could
 * take in before it, and not the server, sets the latency.
 */

export async function run(opts: { seconds: number }) {
  const ins = toInstrument(DEFAULT_INSTRUMENTS[0], 0);
  const symbol = new TextEncoder().encode(ins.symbol);
  const enc = new MessageEncoder();
  // A ten-level book each side around 67000.0, and one update that changes sizes within it.
  const bidPrices = new Float64Array(10).map((_, i) => 670000 - i);
  const askPrices = new Float64Array(10).map((_, i) => 670001 + i);
  const sizes = new Float64Array(10).map((_, i) => 100_000 + i * 37);
  const snapshotFrame = enc.l2Snapshot(symbol, 1, Date.now() * 1000, 10, ins.priceDecimals, ins.sizeDecimals, 0, bidPrices, sizes, 10, askPrices, sizes, 10).slice();
  const updateFrame = enc
    .l2Update(symbol, 2, Date.now() * 1000, 10, 1, 0, new Float64Array([670000, 669999, 669998]), new Float64Array([150000, 2500, 990000]), 3, new Float64Array([670001, 670002]), new Float64Array([100, 990000]), 2)
    .slice();
  const decimals = new Map<string, Decimals>([[ins.symbol, { price_decimals: ins.priceDecimals, size_decimals: ins.sizeDecimals }]]);

  const envelope = new Envelope();
  const update = new L2Update();
  let sink = 0;
  const envelopeRead = () => {
    const bb = new flatbuffers.ByteBuffer(updateFrame);
    Envelope.getRootAsEnvelope(bb, envelope);
    if (envelope.bodyType() !== Body.L2Update) return;
    const name = envelope.symbol(flatbuffers.Encoding.UTF8_BYTES) as Uint8Array;
    envelope.body(update);
    sink += name[3] + envelope.sequence() + envelope.timestamp() + update.prevSequence();
  };
  const sdkDecode = () => {
    sink += (frameToMessage(updateFrame, decimals) as L2UpdateMessage).sequence;
  };
  const book = new L2Book(ins.symbol);
  book.applySnapshot(frameToMessage(snapshotFrame, decimals) as never);
  let sequence = 1;
  const sdkVerified = () => {
    const m = frameToMessage(updateFrame, decimals) as L2UpdateMessage;
    // The one frame, chained: each application follows the previous one.
    m.prev_sequence = sequence;
    m.sequence = ++sequence;
    book.applyUpdate(m);
  };

  const perRound = Math.max(5000, Math.round(opts.seconds * 20_000));
  const load = loadAverage();
  const result = {
    nsPerMessage: { envelopeRead: bestNsPerCall(perRound, envelopeRead), sdkDecode: bestNsPerCall(perRound, sdkDecode), sdkVerified: bestNsPerCall(perRound, sdkVerified) },
    allocatedBytes: { envelopeRead: measureAllocation(envelopeRead), sdkDecode: measureAllocation(sdkDecode), sdkVerified: measureAllocation(sdkVerified) },
    frameBytes: updateFrame.length,
    loadAverage: load,
    sink: sink > 0,
  };
  return result;
}

if (require.main === module) runStandalone(run, 2);
