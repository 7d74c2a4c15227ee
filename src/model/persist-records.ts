/**
 * Records a book worker hands the persistence worker through its persist ring: plain float64
 * words (the database wants numbers, not wire frames). Record type = P_* kind.
 *
 *   P_TRADE   symbol, sequence, tradeId, price, size, side, makerOrderId, time
 *   P_CANDLE  symbol, interval, start, open, high, low, close, volume, notional, count
 *   P_BOOK    symbol, sequence, time, checksum, bidCount, askCount,
 *             then bidCount × (price, size), then askCount × (price, size)
 */
export const P_TRADE = 1;
export const P_CANDLE = 2;
export const P_BOOK = 3;

export const P_TRADE_WORDS = 8;
export const P_CANDLE_WORDS = 10;
export const P_BOOK_HEADER_WORDS = 6;
