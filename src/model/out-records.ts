/**
 * Records that cross the rings between the front thread and the book workers. Both sides import
 * this file and nothing of each other.
 *
 * Out-ring (worker → front), one record per message, record type word:
 *
 *   bits  0..15  instrument index
 *   bits 16..23  message kind (MSG_*)
 *   bits 24..27  L2 depth index into L2_DEPTHS (L2 messages only)
 *   bit  28      FLAG_BROADCAST: a snapshot every subscriber gets (book reset), not only the
 *                connections waiting for one
 *   bit  29      FLAG_SNAPSHOT: the message is a snapshot (a ticker answering a request is
 *                otherwise indistinguishable from a ticker update)
 *
 *   payload: [float64 sequence][FlatBuffers Envelope bytes …]
 *
 * Control ring (front → worker): same type word with a CTRL_* request in the kind bits, the
 * stream (streams.ts, 0 .. STREAMS - 1) in the depth bits, and no payload.
 */

export const MSG_L2_SNAPSHOT = 1;
export const MSG_L2_UPDATE = 2;
export const MSG_L3_SNAPSHOT = 3;
export const MSG_L3_UPDATE = 4;
export const MSG_TRADE = 5;
export const MSG_TICKER = 6;
/** A candle; the depth bits carry its interval (INTERVALS index). */
export const MSG_CANDLE = 7;

/** Ask the owner for a snapshot of a stream (and keep producing it until deactivated). */
export const CTRL_SNAPSHOT = 1;
/** The stream has no subscribers left: stop producing it. */
export const CTRL_DEACTIVATE = 2;

export const FLAG_BROADCAST = 1 << 28;
export const FLAG_SNAPSHOT = 1 << 29;

/** Bytes before the FlatBuffers envelope in an out-ring payload. */
export const OUT_HEADER_BYTES = 8;

export function packType(symbol: number, kind: number, depthIndex: number): number {
  return symbol | (kind << 16) | (depthIndex << 24);
}

/** A control request (CTRL_*) about one stream of one instrument. */
export function packControl(symbol: number, request: number, stream: number): number {
  return packType(symbol, request, stream);
}

export function controlStream(type: number): number {
  return typeDepthIndex(type);
}

export function controlRequest(type: number): number {
  return typeMessage(type);
}

export function typeSymbol(type: number): number {
  return type & 0xffff;
}

export function typeMessage(type: number): number {
  return (type >>> 16) & 0xff;
}

export function typeDepthIndex(type: number): number {
  return (type >>> 24) & 0xf;
}
