import { applyEvent } from './apply-event';
import { OK } from '../model/book-types';
import type { DiffEmitter } from './diff-emitter';
import { EV_CLEAR } from '../model/events';
import type { SymbolState } from './symbol-state';

/**
 * Applies one input event to a symbol its worker owns: the book changes, the emitter encodes what
 * changed, and an accepted event takes the symbol's next sequence. Returns OK or the reject code.
 * The book worker runs every event through here, and so do the tests that hold a state restored
 * from a checkpoint against one that never stopped.
 */
export function applyInput(
  s: SymbolState,
  emitter: DiffEmitter,
  kind: number,
  side: number,
  orderId: number,
  price: number,
  size: number,
  newOrderId: number,
  timestamp: number,
): number {
  s.noteEvent(orderId, newOrderId, timestamp);
  if (kind === EV_CLEAR) {
    s.book.clear();
    emitter.reset(s, s.sequence + 1, timestamp);
    return OK;
  }
  emitter.begin(s, s.sequence + 1, timestamp);
  const status = applyEvent(s.book, kind, side, orderId, price, size, newOrderId);
  if (status === OK) emitter.commit();
  else emitter.abort();
  return status;
}
