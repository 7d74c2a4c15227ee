import { OK, REJECT_BAD_EVENT } from '../model/book-types';
import { EV_ADD, EV_CANCEL, EV_CLEAR, EV_DELETE, EV_EXECUTE, EV_MODIFY, EV_REPLACE, EV_TRADE } from '../model/events';
import { OrderBook } from './order-book';

/**
 * Applies one input event (the fields of a ring record, see events.ts) to a book and returns
 * OK or the reject code. For EV_TRADE `side` is the aggressor.
 */
export function applyEvent(
  book: OrderBook,
  kind: number,
  side: number,
  orderId: number,
  price: number,
  size: number,
  newOrderId: number,
): number {
  switch (kind) {
    case EV_ADD:
      return book.add(orderId, side, price, size);
    case EV_MODIFY:
      return book.modify(orderId, size);
    case EV_REPLACE:
      return book.replace(orderId, newOrderId, price, size);
    case EV_CANCEL:
      return book.cancel(orderId, size);
    case EV_DELETE:
      return book.delete(orderId);
    case EV_EXECUTE:
      return book.execute(orderId, size);
    case EV_TRADE:
      return book.trade(price, size, side);
    case EV_CLEAR:
      book.clear();
      return OK;
    default:
      return REJECT_BAD_EVENT;
  }
}
