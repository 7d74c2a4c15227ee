import { formatUnits, parseUnits } from '../util/decimal';
import type { L3SnapshotMessage, L3UpdateMessage, Level } from './messages';
import type { ApplyResult } from './l2-book';
import { StreamCheck } from './stream-check';

export interface RestingOrder {
  side: 'bids' | 'asks';
  price: string;
  size: string;
}

/**
 * An L3 book (every resting order) kept from a snapshot and its updates. L3 messages carry no
 * checksum, so besides the sequence rule every change is checked against the book: an add of an
 * order it holds, or a modify or delete of one it does not, means the copy is wrong.
 */
export class L3Book {
  readonly orders = new Map<number, RestingOrder>();
  private readonly check = new StreamCheck();

  constructor(readonly symbol: string) {}

  get sequence(): number {
    return this.check.sequence;
  }

  applySnapshot(m: L3SnapshotMessage): ApplyResult {
    this.orders.clear();
    for (const side of ['bids', 'asks'] as const) for (const o of m.data[side]) this.orders.set(o.order_id, { side, price: o.price, size: o.size });
    this.check.snapshot(m.sequence);
    return 'ok';
  }

  applyUpdate(m: L3UpdateMessage): ApplyResult {
    if (!this.check.update(m.sequence, m.prev_sequence)) return 'gap';
    for (const side of ['bids', 'asks'] as const) {
      for (const o of m.data[side]) {
        const held = this.orders.get(o.order_id);
        if (o.event === 'add') {
          if (held !== undefined) return 'gap';
          this.orders.set(o.order_id, { side, price: o.price, size: o.size });
        } else if (held === undefined) {
          return 'gap';
        } else if (o.event === 'delete') {
          this.orders.delete(o.order_id);
        } else {
          held.size = o.size;
        }
      }
    }
    return 'ok';
  }

  /** The orders aggregated into the top `n` price levels a side, with `sizeDecimals` (exact, in units). */
  levels(n: number, sizeDecimals: number): { bids: Level[]; asks: Level[] } {
    const sums = { bids: new Map<string, number>(), asks: new Map<string, number>() };
    for (const o of this.orders.values()) sums[o.side].set(o.price, (sums[o.side].get(o.price) ?? 0) + parseUnits(o.size, sizeDecimals));
    const side = (s: 'bids' | 'asks'): Level[] =>
      [...sums[s].entries()]
        .sort((a, b) => (s === 'bids' ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])))
        .slice(0, n)
        .map(([price, units]) => [price, formatUnits(units, sizeDecimals)]);
    return { bids: side('bids'), asks: side('asks') };
  }
}
