import * as flatbuffers from 'flatbuffers';
import { Candle } from '../wire/generated/bookcast/wire/candle';
import { Envelope } from '../wire/generated/bookcast/wire/envelope';
import { Trade } from '../wire/generated/bookcast/wire/trade';
import type { OutMessage } from './consumer';

/**
 * Reads the few fields the front needs from a record, in place in the ring: one ByteBuffer per
 * ring, made once and re-pointed, so nothing is allocated per record.
 */
const readers: flatbuffers.ByteBuffer[] = [];
const envelope = new Envelope();
const candle = new Candle();
const trade = new Trade();

function envelopeOf(m: OutMessage): Envelope {
  let bb: flatbuffers.ByteBuffer | undefined;
  for (let i = 0; i < readers.length; i++) {
    if (readers[i].bytes() === m.buffer) {
      bb = readers[i];
      break;
    }
  }
  if (bb === undefined) {
    bb = new flatbuffers.ByteBuffer(m.buffer);
    readers.push(bb);
  }
  bb.setPosition(m.start);
  return Envelope.getRootAsEnvelope(bb, envelope);
}

/** The candle in `m` (kind MSG_CANDLE); valid until the next read. */
export function readCandle(m: OutMessage): Candle {
  return envelopeOf(m).body(candle) as Candle;
}

/** A closed candle (conflation keeps it apart: a later update never replaces it). */
export function candleIsFinal(m: OutMessage): boolean {
  return readCandle(m).final();
}

/** The trade in `m` (kind MSG_TRADE) and its envelope's timestamp; valid until the next read. */
export function readTrade(m: OutMessage): { trade: Trade; timestamp: number } {
  const env = envelopeOf(m);
  tradeView.trade = env.body(trade) as Trade;
  tradeView.timestamp = env.timestamp();
  return tradeView;
}
const tradeView = { trade, timestamp: 0 };
