/**
 * An external feed's shared words (--source feed:<venue>, capture:<file>): a Float64Array over a
 * SharedArrayBuffer the front allocates, written only by the source thread (src/feeds/) and read
 * by the front for /api/v1/health. A few words for the connection, then FQ_WORDS per instrument.
 * They live here, below every thread's folder, because both sides agree on them.
 *
 *   0 FEED_CONNECTED   1 while the venue's WebSocket is open (capture: while playing)
 *   1 FEED_CONNECTS    connections opened (the first one included)
 *   2 FEED_FRAMES      frames received
 *   3 FEED_MALFORMED   frames no symbol could be named for (bad JSON, unknown shapes)
 *   4 + FQ_WORDS × instrument + FQ_*   the instrument's data-quality figures
 *   then TICKER_SLOT_WORDS per instrument: the venue's own ticker as text (model/venue-tickers.ts)
 */
export const FEED_CONNECTED = 0;
export const FEED_CONNECTS = 1;
export const FEED_FRAMES = 2;
export const FEED_MALFORMED = 3;
export const FEED_HEADER_WORDS = 4;

/** Book, trade and ticker messages taken for the instrument. */
export const FQ_MESSAGES = 0;
/** A venue sequence number skipped (Binance U/u, Coinbase sequence_num). */
export const FQ_GAPS = 1;
/** The venue's checksum disagreed with the local copy of its book (Kraken CRC32). */
export const FQ_CHECKSUM = 2;
/** The venue's book crossed (best bid at or above best ask) after a message. */
export const FQ_CROSSED = 3;
/** A message about the instrument that could not be read (bad numbers, missing fields). */
export const FQ_MALFORMED = 4;
/** Fresh snapshots asked for to repair the book (one per problem above, and per reconnect). */
export const FQ_RESYNCS = 5;
/** 1 while the local copy of the venue's book is in sync; 0 while a snapshot is awaited. */
export const FQ_SYNCED = 6;
/** Events handed to the books for the instrument (book changes and trades). */
export const FQ_EVENTS = 7;
/**
 * Trades the venue numbered but never sent: its per-symbol trade id jumped (Binance `t`, Coinbase
 * `trade_id`, Kraken v2 `trade_id`), each jump counted once. Trades cannot be fetched again from a
 * snapshot, so this is reported, not repaired.
 */
export const FQ_TRADE_GAPS = 8;
export const FQ_WORDS = 9;

/** Names /api/v1/health shows for the per-instrument words, by FQ_* value. */
export const FQ_NAMES = ['messages', 'gaps', 'checksum_mismatches', 'crossed', 'malformed', 'resyncs', 'synced', 'events', 'trade_gaps'] as const;

/** Words per instrument holding the venue's latest ticker as JSON text (model/venue-tickers.ts). */
export const TICKER_SLOT_WORDS = 96;

export function feedWordsLength(instruments: number): number {
  return FEED_HEADER_WORDS + (FQ_WORDS + TICKER_SLOT_WORDS) * instruments;
}

export function feedWord(instrument: number, word: number): number {
  return FEED_HEADER_WORDS + FQ_WORDS * instrument + word;
}
