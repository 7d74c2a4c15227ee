/**
 * The vocabulary shared by the order book, its listeners and the sources that feed it.
 * Prices and sizes are integers in the symbol's smallest units (10^-priceDecimals and
 * 10^-sizeDecimals); JavaScript numbers carry them exactly up to 2^53.
 */

export const BID = 0;
export const ASK = 1;
export type Side = typeof BID | typeof ASK;
/**
 * Sides as clients and publishers spell them, by BID/ASK: an order's side, or a trade's aggressor
 * (a buyer lifts asks). The one table every JSON renderer and parser uses.
 */
export const SIDE_NAMES: readonly string[] = ['buy', 'sell'];

/** How an L2 level changed; the book has already changed when a listener hears of it. */
export const LEVEL_INSERT = 0;
export const LEVEL_UPDATE = 1;
export const LEVEL_REMOVE = 2;

/** How one resting order changed (L3). A replace is a remove followed by an add. */
export const ORDER_ADD = 0;
export const ORDER_MODIFY = 1;
export const ORDER_REMOVE = 2;
/** L3 order changes as the JSON feed spells them, by ORDER_*. */
export const ORDER_CHANGE_NAMES: readonly string[] = ['add', 'modify', 'delete'];

/** Result of applying one event. 0 is success; the rest are reject reasons, counted per code. */
export const OK = 0;
export const REJECT_UNKNOWN_ORDER = 1;
export const REJECT_DUPLICATE_ORDER = 2;
export const REJECT_BAD_SIZE = 3;
export const REJECT_OFF_TICK = 4;
export const REJECT_OFF_LOT = 5;
export const REJECT_BAD_PRICE = 6;
export const REJECT_BAD_SIDE = 7;
export const REJECT_UNKNOWN_SYMBOL = 8;
export const REJECT_BAD_EVENT = 9;
/** The order would take its level's total size past 2^53 - 1 units, where it stops being exact. */
export const REJECT_LEVEL_OVERFLOW = 10;
export const REJECT_CODE_COUNT = 11;

export const REJECT_NAMES: readonly string[] = [
  'OK',
  'UNKNOWN_ORDER',
  'DUPLICATE_ORDER',
  'BAD_SIZE',
  'OFF_TICK',
  'OFF_LOT',
  'BAD_PRICE',
  'BAD_SIDE',
  'UNKNOWN_SYMBOL',
  'BAD_EVENT',
  'LEVEL_OVERFLOW',
];

/**
 * Called synchronously while the book applies an event, right after each change, so the
 * listener may query the book (levelCount/levelPrice/levelSize) and see the state that
 * includes that change and nothing later. Implementations must not call back into mutations.
 */
export interface BookListener {
  /**
   * An aggregated price level changed. `position` is its index from the best price on that
   * side (0 = best): where it now is for INSERT/UPDATE, where it was for REMOVE. `size` is the
   * level's new aggregate size (0 for REMOVE).
   */
  onLevel(side: Side, price: number, size: number, position: number, change: number): void;
  /** A resting order was added, reduced (ORDER_MODIFY, `size` = remaining) or removed. */
  onOrder(action: number, side: Side, orderId: number, price: number, size: number): void;
  /** A trade printed. `aggressor` is the side that took liquidity; `makerOrderId` 0 if unknown. */
  onTrade(price: number, size: number, aggressor: Side, makerOrderId: number): void;
}
