import { formatUnits, unitsHash } from '../util/decimal';

/**
 * A JSON text written as ASCII bytes into one buffer per thread and taken as one flat string, so
 * a message allocates the same whatever its level count (issue 15 goal 4): an L2 level costs a
 * copy of its cached bytes, where concatenating strings made a rope node per level and the send
 * then flattened the rope into a copy. The text must stay ASCII (callers escape the rest), so
 * its bytes are its characters.
 *
 * Each level's bytes are kept by (price, size, scales) in one slot per hash (a newer level takes
 * its slot over). When a book shifts (a level inserted or removed above others), the levels below
 * move with their price and size unchanged and are sent again, and round lots recur: of the levels
 * the diffs of the LOBSTER GOOG sample's L2(10) book carry (700k), 94% are found here. A level not
 * found is written from its price's and size's texts, which the decimal cache nearly always holds.
 *
 * The slots and the text share one buffer, so a found level is one `copyWithin` (a memmove) into
 * the text. The text's part grows when a text needs more room than it has. A long piece (a
 * message's header, made by concatenation: cheaper than writing its numbers byte by byte here)
 * goes in with one native write, short punctuation byte by byte.
 */
const SLOTS_LOG2 = 12;
const SLOTS = 1 << SLOTS_LOG2;
/** A slot's room: `["`, price, `","`, size, `"]`. A longer level (a price past 10^25 units) is written, not kept. */
const SLOT_BYTES = 64;
const TEXT_START = SLOTS * SLOT_BYTES;

const slotPrices = new Float64Array(SLOTS).fill(NaN);
const slotSizes = new Float64Array(SLOTS);
const slotScales = new Int32Array(SLOTS);
const slotLengths = new Uint8Array(SLOTS);

let buffer = Buffer.allocUnsafeSlow(TEXT_START + 16384);
/** Where the text being written ends. */
let end = TEXT_START;

/**
 * From this length on, appendRaw hands the text to one native write (Buffer.write, a call into
 * C++ that flattens a concatenated string first); shorter punctuation is cheaper copied by
 * charCodeAt here than that call's fixed cost.
 */
const NATIVE_WRITE_FROM = 24;

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const QUOTE = 0x22; // "
const COMMA = 0x2c; // ,

/** What a level's text depends on besides its numbers: both scales in one word (each is at most 18). */
function scalesOf(priceDecimals: number, sizeDecimals: number): number {
  return (priceDecimals << 5) | sizeDecimals;
}

function makeRoom(bytes: number): void {
  if (end + bytes <= buffer.length) return;
  const grown = Buffer.allocUnsafeSlow(Math.max(buffer.length * 2, end + bytes));
  grown.set(buffer.subarray(0, end));
  buffer = grown;
}

/** ASCII text as bytes: JSON punctuation, and numbers' texts. The caller made room. */
function writeAscii(text: string): void {
  // In locals: a module variable is a context slot, a load and a store for every byte.
  const bytes = buffer;
  let at = end;
  for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
  end = at;
}

/** Starts a new text; the one before must have been taken. */
export function startText(): void {
  end = TEXT_START;
}

/** Appends ASCII text as it is: JSON punctuation, a header, escaped strings. */
export function appendRaw(text: string): void {
  makeRoom(text.length);
  if (text.length < NATIVE_WRITE_FROM) writeAscii(text);
  else end += buffer.write(text, end, 'latin1');
}

/** Appends `["price","size"]`, after a comma unless it is the `first` of its list. */
export function appendLevel(price: number, size: number, priceDecimals: number, sizeDecimals: number, first: boolean): void {
  const scales = scalesOf(priceDecimals, sizeDecimals);
  // The size's hash multiplied once more, so a level whose price and size are equal has a slot of its own.
  const slot = (unitsHash(price, scales) ^ Math.imul(unitsHash(size, scales), 0x27d4eb2f)) >>> (32 - SLOTS_LOG2);
  if (slotPrices[slot] === price && slotSizes[slot] === size && slotScales[slot] === scales) {
    const length = slotLengths[slot];
    makeRoom(length + 1);
    if (!first) buffer[end++] = COMMA;
    const from = slot * SLOT_BYTES;
    buffer.copyWithin(end, from, from + length);
    end += length;
    return;
  }
  const priceText = formatUnits(price, priceDecimals);
  const sizeText = formatUnits(size, sizeDecimals);
  const length = priceText.length + sizeText.length + 7;
  makeRoom(length + 1);
  if (!first) buffer[end++] = COMMA;
  const start = end;
  buffer[end++] = OPEN;
  buffer[end++] = QUOTE;
  writeAscii(priceText);
  buffer[end++] = QUOTE;
  buffer[end++] = COMMA;
  buffer[end++] = QUOTE;
  writeAscii(sizeText);
  buffer[end++] = QUOTE;
  buffer[end++] = CLOSE;
  if (length > SLOT_BYTES) return;
  buffer.copyWithin(slot * SLOT_BYTES, start, end);
  slotPrices[slot] = price;
  slotSizes[slot] = size;
  slotScales[slot] = scales;
  slotLengths[slot] = length;
}

/** The text written since startText, as one flat string. */
export function takeText(): string {
  return buffer.toString('latin1', TEXT_START, end);
}
