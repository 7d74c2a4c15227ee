import * as flatbuffers from 'flatbuffers';

/**
 * Reading a frame in place, without the checked decode (wire/message-decoder.ts) and its
 * throwaway objects: the JSON renderer reads every frame this way, the FIX renderer its L2
 * updates. Only wire/ imports the generated code; the readers others need go out through here.
 */
export { Body } from './generated/bookcast/wire/body';
export { Envelope } from './generated/bookcast/wire/envelope';
export { L2Update } from './generated/bookcast/wire/l2update';
export { Level } from './generated/bookcast/wire/level';

// FlatBuffers offsets are all relative, so a frame can be read in place inside a larger buffer
// by starting at its byteOffset. Frames reach the front thread as views into the same ring
// buffer, so one ByteBuffer over that whole buffer serves every message (a ByteBuffer per call
// would cost ~80 ns and a TextDecoder each); a frame from another buffer rewraps once.
let wrapped: ArrayBufferLike | null = null;
let wrapper = new flatbuffers.ByteBuffer(new Uint8Array(0));
let wrapperView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** A ByteBuffer positioned at the start of the frame `bytes`. */
export function byteBufferOf(bytes: Uint8Array): flatbuffers.ByteBuffer {
  if (bytes.buffer !== wrapped) {
    wrapped = bytes.buffer;
    wrapper = new flatbuffers.ByteBuffer(new Uint8Array(bytes.buffer));
    wrapperView = new DataView(bytes.buffer);
  }
  wrapper.setPosition(bytes.byteOffset);
  return wrapper;
}

/**
 * A DataView over the bytes the last byteBufferOf wrapped, at the same offsets: a run of
 * structs (an L2 message's levels) reads faster through it, one getFloat64 per double, than
 * through the ByteBuffer, which assembles each double from eight byte reads.
 */
export function dataViewOfLastFrame(): DataView<ArrayBufferLike> {
  return wrapperView;
}
