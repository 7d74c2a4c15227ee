import type { WebSocket } from 'uWebSockets.js';

/**
 * Messages too large to answer. uWS refuses a message longer than its `maxPayloadLength` by
 * dropping the TCP connection with no close frame (the client sees 1006, and learns nothing), so
 * uWS is given CEILING_FACTOR times the size past which bookcast closes: from `closeAbove` up to
 * that ceiling the message reaches bookcast, which closes with 1009 and a reason. Beyond the
 * ceiling uWS still drops the connection: a ceiling there must be, since uWS holds a message in
 * memory until it is complete, and the ceiling bounds that memory per connection.
 */
export const CEILING_FACTOR = 4;
/** RFC 6455 §7.4.1: "a message that is too big for it to process". */
export const CLOSE_MESSAGE_TOO_BIG = 1009;

/** The `maxPayloadLength` for uWS on an endpoint that closes messages above `closeAbove` bytes. */
export function payloadCeiling(closeAbove: number): number {
  return Math.min(closeAbove * CEILING_FACTOR, 2 ** 31 - 1);
}

/** Closes with 1009 and says why when the message is over `closeAbove` bytes; returns whether it did. */
export function closeIfTooBig<T>(ws: WebSocket<T>, byteLength: number, closeAbove: number): boolean {
  if (byteLength <= closeAbove) return false;
  ws.end(CLOSE_MESSAGE_TOO_BIG, `MESSAGE_TOO_LARGE: ${byteLength} bytes; at most ${closeAbove} are read`);
  return true;
}
