import { FEED_HEADER_WORDS, FQ_WORDS, TICKER_SLOT_WORDS } from './feed-words';

/**
 * A venue's own ticker per instrument (Kraken's `ticker` channel), kept for operators in
 * /api/v1/health. Its fields are the venue's decimal strings, which a Float64 word cannot hold
 * exactly, so each instrument has a slot of TICKER_SLOT_WORDS words at the end of the feed's
 * shared words (model/feed-words.ts) holding the ticker as JSON text: word 0's first Int32 is a
 * version (odd while the source thread writes), the second the text's byte length, then the text.
 * The front copies the text and reads the version again: a torn read is retried, never shown.
 */
const SLOT_BYTES = TICKER_SLOT_WORDS * 8;
const TEXT_OFFSET = 8;
export const TICKER_TEXT_BYTES = SLOT_BYTES - TEXT_OFFSET;

function slot(words: Float64Array, instrument: number): { version: Int32Array; bytes: Uint8Array } {
  const instruments = (words.length - FEED_HEADER_WORDS) / (FQ_WORDS + TICKER_SLOT_WORDS);
  const start = words.byteOffset + (FEED_HEADER_WORDS + FQ_WORDS * instruments + TICKER_SLOT_WORDS * instrument) * 8;
  return { version: new Int32Array(words.buffer, start, 2), bytes: new Uint8Array(words.buffer, start + TEXT_OFFSET, TICKER_TEXT_BYTES) };
}

/** Source thread: the instrument's latest venue ticker; false (nothing written) when its JSON outgrows the slot. */
export function writeVenueTicker(words: Float64Array, instrument: number, ticker: Record<string, string>): boolean {
  const text = Buffer.from(JSON.stringify(ticker));
  if (text.length > TICKER_TEXT_BYTES) return false;
  const { version, bytes } = slot(words, instrument);
  Atomics.add(version, 0, 1);
  bytes.set(text);
  Atomics.store(version, 1, text.length);
  Atomics.add(version, 0, 1);
  return true;
}

/** Front: the instrument's latest venue ticker, null before the first one (or while writes keep overlapping the read). */
export function readVenueTicker(words: Float64Array, instrument: number): Record<string, string> | null {
  const { version, bytes } = slot(words, instrument);
  for (let attempt = 0; attempt < 100; attempt++) {
    const before = Atomics.load(version, 0);
    if (before === 0) return null;
    if ((before & 1) === 1) continue; // a write in progress (& 1: the version may wrap to negative)
    const length = Atomics.load(version, 1);
    const text = Buffer.from(bytes.slice(0, length)).toString();
    if (Atomics.load(version, 0) === before) return JSON.parse(text) as Record<string, string>;
  }
  return null;
}
