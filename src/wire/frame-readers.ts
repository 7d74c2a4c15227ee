/**
 * The generated FlatBuffers readers other heads may use to read a frame in place, without the
 * checked decode (wire/message-decoder.ts) and its throwaway objects: the FIX renderer reads L2
 * updates this way once per record. Only wire/ imports the generated code; this is its one door.
 */
export { Body } from './generated/bookcast/wire/body';
export { Envelope } from './generated/bookcast/wire/envelope';
export { L2Update } from './generated/bookcast/wire/l2update';
export { Level } from './generated/bookcast/wire/level';
