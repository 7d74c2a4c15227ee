/**
 * Records a book worker hands the persistence worker through its persist ring: plain float64
 * words (the database wants numbers, not wire frames). Record type = P_* kind.
 *
 *   PERSIST_TRADE   symbol, sequence, tradeId, price, size, side, makerOrderId, time
 *   PERSIST_CANDLE  symbol, interval, start, open, high, low, close, volume, notional, count,
 *                   volumeRest, notionalRest (exact sums past 2^53: util/exact-sum.ts)
 *   PERSIST_BOOK    symbol, sequence, time, checksum, bidCount, askCount,
 *             then bidCount × (price, size), then askCount × (price, size)
 */
export const PERSIST_TRADE = 1;
export const PERSIST_CANDLE = 2;
export const PERSIST_BOOK = 3;

export const PERSIST_TRADE_WORDS = 8;
export const PERSIST_CANDLE_WORDS = 12;
export const PERSIST_BOOK_HEADER_WORDS = 6;
