import { CandleSink, OutMessageReader } from '../wire/out-message-reader';
import type { OutMessage } from './consumer';

/** One reader per ring's bytes, made once: reading a record in place allocates nothing. */
const readers: OutMessageReader[] = [];
const buffers: Uint8Array[] = [];

/** The wire reader for the ring `m` lies in (records of several rings interleave). */
export function readerOf(m: OutMessage): OutMessageReader {
  for (let i = 0; i < buffers.length; i++) if (buffers[i] === m.buffer) return readers[i];
  const reader = new OutMessageReader(m.buffer);
  buffers.push(m.buffer);
  readers.push(reader);
  return reader;
}

const NOWHERE: CandleSink = { record: () => undefined };

/** A closed candle (conflation keeps it apart: a later update never replaces it). */
export function candleIsFinal(m: OutMessage): boolean {
  return readerOf(m).readClosedCandle(m.symbol, m.index, m.start, NOWHERE);
}
