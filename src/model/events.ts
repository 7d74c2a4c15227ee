/**
 * Input events: what sources hand to the book workers. One event is eight float64 words, so it
 * crosses a ring as a fixed 64-byte record with no encoding work and no allocation.
 *
 *   word  0 kind        EV_*
 *         1 symbol      instrument index
 *         2 side        BID/ASK of the order (for EV_TRADE: the aggressor)
 *         3 orderId     positive integer
 *         4 price       units of 10^-priceDecimals
 *         5 size        units of 10^-sizeDecimals (EV_CANCEL: amount removed)
 *         6 newOrderId  EV_REPLACE only (may equal orderId)
 *         7 timestamp   microseconds since the Unix epoch, when the event happened at its source
 */

export const EV_ADD = 1;
export const EV_MODIFY = 2; // size down, keeps time priority
export const EV_REPLACE = 3; // new price and/or size, loses time priority
export const EV_CANCEL = 4; // partial cancel: `size` removed
export const EV_DELETE = 5; // full cancel
export const EV_EXECUTE = 6; // resting order `orderId` executed for `size`; prints a trade
export const EV_TRADE = 7; // a trade that touches no visible order (hidden or cross)
export const EV_CLEAR = 8; // book reset: every order removed
/** Event kinds as /ingest JSON batches and stored-event pages spell them, by EV_* value. */
export const EVENT_KIND_NAMES = ['', 'add', 'modify', 'replace', 'cancel', 'delete', 'execute', 'trade', 'clear'] as const;

export const EVENT_WORDS = 8;
export const EVENT_BYTES = EVENT_WORDS * 8;

export const W_KIND = 0;
export const W_SYMBOL = 1;
export const W_SIDE = 2;
export const W_ORDER_ID = 3;
export const W_PRICE = 4;
export const W_SIZE = 5;
export const W_NEW_ORDER_ID = 6;
export const W_TIMESTAMP = 7;

/** Receives events one at a time, in source order. Implementations must not keep references. */
export interface EventSink {
  event(
    kind: number,
    symbol: number,
    side: number,
    orderId: number,
    price: number,
    size: number,
    newOrderId: number,
    timestamp: number,
  ): void;
}
