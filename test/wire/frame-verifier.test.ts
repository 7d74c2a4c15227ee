import t from 'tap';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { decodeMessage } from '../../src/wire/message-decoder';
import { BAD_FRAME, verifyFrame } from '../../src/wire/frame-verifier';
import { encode, everyType, prng } from './wire-fixtures';

/** Runs decodeMessage and reports 'ok', 'BAD_FRAME', or whatever else it threw. */
function outcome(bytes: Uint8Array): string {
  try {
    decodeMessage(bytes);
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code === BAD_FRAME ? BAD_FRAME : `threw ${String(err)}`;
  }
}

function frames(): Uint8Array[] {
  const encoder = new MessageEncoder();
  return everyType().map((m) => encode(encoder, m).slice());
}

function le32(bytes: Uint8Array, pos: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(pos, value, true);
  return copy;
}

t.test('every encoded frame verifies', async (t) => {
  for (const frame of frames()) t.doesNotThrow(() => verifyFrame(frame));
});

t.test('short, empty and wrongly identified frames are BAD_FRAME', async (t) => {
  const [snapshot] = frames();
  t.equal(outcome(new Uint8Array(0)), BAD_FRAME, 'empty');
  t.equal(outcome(snapshot.subarray(0, 7)), BAD_FRAME, '7 bytes');
  const wrongId = snapshot.slice();
  wrongId[4] = 'X'.charCodeAt(0);
  t.equal(outcome(wrongId), BAD_FRAME, 'identifier XKCT');
  t.throws(() => decodeMessage(wrongId), { code: BAD_FRAME, message: /file identifier/ });
});

t.test('a truncated frame is BAD_FRAME unless only trailing padding was cut', async (t) => {
  for (const frame of frames()) {
    const whole = decodeMessage(frame);
    let others = 0;
    for (let length = 0; length < frame.length; length++) {
      const cut = frame.slice(0, length);
      if (outcome(cut) === BAD_FRAME) continue;
      // The builder pads the end of the buffer; losing padding loses nothing.
      if (frame.subarray(length).every((b) => b === 0) && JSON.stringify(decodeMessage(cut)) === JSON.stringify(whole)) continue;
      others++;
    }
    t.equal(others, 0, `${frame.length}-byte ${whole.type} frame cut anywhere`);
  }
});

t.test('offsets and lengths pointing outside the frame are BAD_FRAME', async (t) => {
  const [snapshot] = frames();
  const view = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  const root = view.getUint32(0, true);
  t.equal(outcome(le32(snapshot, 0, snapshot.length + 100)), BAD_FRAME, 'root offset past the end');
  t.equal(outcome(le32(snapshot, 0, 0)), BAD_FRAME, 'root offset 0');
  t.equal(outcome(le32(snapshot, root, -0x1000 >>> 0)), BAD_FRAME, 'vtable past the end');
  t.equal(outcome(le32(snapshot, root, 0x7fffffff)), BAD_FRAME, 'vtable before the start');

  // A vector whose length runs past the end: the accessors alone would loop for 2^28 entries.
  const encoder = new MessageEncoder();
  const update = encode(encoder, everyType()[1]).slice();
  const bidsLength = vectorAt(update, 3);
  t.equal(new DataView(update.buffer).getUint32(bidsLength, true), 1, 'found the bids length');
  t.equal(outcome(le32(update, bidsLength, 0x10000000)), BAD_FRAME, 'huge vector length');
});

t.test('a string without its NUL terminator is BAD_FRAME', async (t) => {
  const encoder = new MessageEncoder();
  const bytes = encode(encoder, { type: 'error', timestamp: 1, code: 'ABCDEFG', message: 'x' }).slice();
  const text = Buffer.from(bytes).indexOf('ABCDEFG');
  bytes[text + 7] = 0x41;
  t.equal(outcome(bytes), BAD_FRAME);
});

t.test('an unknown or missing body is BAD_FRAME', async (t) => {
  const trade = frames()[4];
  // body_type is the only byte equal to Body.Trade (5) right before the body offset.
  const typeAt = findBodyType(trade, 5);
  const unknown = trade.slice();
  unknown[typeAt] = 42;
  t.throws(() => decodeMessage(unknown), { code: BAD_FRAME, message: /unknown body type 42/ });
  const none = trade.slice();
  none[typeAt] = 0;
  t.throws(() => decodeMessage(none), { code: BAD_FRAME, message: /no body/ });
});

t.test('random garbage is BAD_FRAME, with or without the identifier', async (t) => {
  const rand = prng(7);
  let others = 0;
  for (let i = 0; i < 5000; i++) {
    const bytes = new Uint8Array(8 + Math.floor(rand() * 300));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
    if (i % 2 === 0) bytes.set([0x42, 0x4b, 0x43, 0x54], 4);
    const result = outcome(bytes);
    if (result !== BAD_FRAME) others++;
  }
  t.equal(others, 0);
});

t.test('valid frames with bytes flipped decode or are BAD_FRAME, never anything else', async (t) => {
  const rand = prng(11);
  const seen = new Map<string, number>();
  for (const frame of frames()) {
    for (let i = 0; i < 2000; i++) {
      const bytes = frame.slice();
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      const result = outcome(bytes);
      seen.set(result, (seen.get(result) ?? 0) + 1);
    }
  }
  t.same([...seen.keys()].sort(), [BAD_FRAME, 'ok'], `outcomes: ${JSON.stringify([...seen])}`);
});

/** Where the length of vector field `slot` of the Envelope's body table sits. */
function vectorAt(bytes: Uint8Array, slot: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const field = (table: number, s: number) => table + view.getUint16(table - view.getInt32(table, true) + 4 + 2 * s, true);
  const follow = (pos: number) => pos + view.getUint32(pos, true);
  const root = view.getUint32(0, true);
  return follow(field(follow(field(root, 4)), slot));
}

function findBodyType(bytes: Uint8Array, expected: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const root = view.getUint32(0, true);
  const vtable = root - view.getInt32(root, true);
  const at = root + view.getUint16(vtable + 4 + 2 * 3, true);
  if (bytes[at] !== expected) throw new Error(`body type at ${at} is ${bytes[at]}`);
  return at;
}

t.test('field offsets the JS accessors would read as negative are BAD_FRAME', async (t) => {
  // A trade whose Envelope claims a 0x8004-byte table with its symbol at +0x8000, where a
  // well-formed string offset waits: bounds alone would pass it, but the generated accessor
  // reads 0x8000 as -32768 and would look before the table.
  const trade = frames()[4];
  const frame = new Uint8Array(trade.length + 0x8010);
  frame.set(trade);
  const view = new DataView(frame.buffer);
  const root = view.getUint32(0, true);
  const vtable = root - view.getInt32(root, true);
  view.setUint16(vtable + 2, 0x8004, true);
  view.setUint16(vtable + 4, 0x8000, true);
  const at = root + 0x8000;
  view.setUint32(at, 4, true);
  view.setUint32(at + 4, 1, true);
  frame[at + 8] = 0x41;
  t.throws(() => decodeMessage(frame), { code: BAD_FRAME, message: /table size 32772/ });
});

/** Where the body table and its vtable sit. */
function bodyTable(bytes: Uint8Array): { table: number; vtable: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const root = view.getUint32(0, true);
  const rootVtable = root - view.getInt32(root, true);
  const bodyField = root + view.getUint16(rootVtable + 4 + 2 * 4, true);
  const table = bodyField + view.getUint32(bodyField, true);
  return { table, vtable: table - view.getInt32(table, true) };
}

t.test('candles: every field is bounds- and alignment-checked', async (t) => {
  const candle = frames()[9];
  t.equal(decodeMessage(candle).type, 'candle');
  const { table, vtable } = bodyTable(candle);
  const view = new DataView(candle.buffer, candle.byteOffset, candle.byteLength);
  t.equal(view.getUint16(vtable, true), 4 + 2 * 10, 'all ten slots present');
  const tableSize = view.getUint16(vtable + 2, true);
  // Each field in turn moved past the table's end, then (doubles) off their alignment.
  for (let slot = 0; slot < 10; slot++) {
    const entry = vtable + 4 + 2 * slot;
    const size = slot === 0 || slot === 9 ? 1 : 8;
    const past = candle.slice();
    new DataView(past.buffer).setUint16(entry, tableSize - size + 1, true);
    t.throws(() => decodeMessage(past), { code: BAD_FRAME, message: new RegExp(`field ${slot} runs past its table`) }, `slot ${slot} past the table`);
    if (size === 8) {
      const skewed = candle.slice();
      new DataView(skewed.buffer).setUint16(entry, view.getUint16(entry, true) + 4, true);
      t.throws(() => decodeMessage(skewed), { code: BAD_FRAME, message: new RegExp(`field ${slot} at \\d+ is not 8-byte aligned`) }, `slot ${slot} misaligned`);
    }
  }
  // A table claiming more bytes than the frame holds.
  const long = candle.slice();
  new DataView(long.buffer).setUint16(vtable + 2, long.length - table + 1, true);
  t.throws(() => decodeMessage(long), { code: BAD_FRAME, message: /table at/ });
});
