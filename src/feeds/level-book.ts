import { BID } from '../model/book-types';

/**
 * The local copy of a venue's aggregated (L2) book: per side, prices and sizes in units, best
 * first, in plain arrays kept sorted (binary search, splice). Venue books are at most a few
 * thousand levels deep where they change (Kraken ≤ 1000, Binance's REST snapshot 1000, Coinbase's
 * whole book only at the snapshot), and a sorted array gives the top N for a checksum and the
 * worst level for truncation without a tree.
 */
export class LevelBook {
  private readonly prices: [number[], number[]] = [[], []];
  private readonly sizes: [number[], number[]] = [[], []];

  clear(): void {
    for (let side = 0; side < 2; side++) {
      this.prices[side].length = 0;
      this.sizes[side].length = 0;
    }
  }

  count(side: number): number {
    return this.prices[side].length;
  }

  priceAt(side: number, position: number): number {
    return this.prices[side][position];
  }

  sizeAt(side: number, position: number): number {
    return this.sizes[side][position];
  }

  /** The size at `price`, 0 when the level is absent. */
  size(side: number, price: number): number {
    const at = this.find(side, price);
    return at >= 0 ? this.sizes[side][at] : 0;
  }

  /** The level's place on its side (0 = best), -1 when absent. */
  position(side: number, price: number): number {
    const at = this.find(side, price);
    return at >= 0 ? at : -1;
  }

  /** Sets a level's size; 0 removes it (a removal of an absent level is not an error: venues send them). */
  set(side: number, price: number, size: number): void {
    const at = this.find(side, price);
    if (at >= 0) {
      if (size === 0) {
        this.prices[side].splice(at, 1);
        this.sizes[side].splice(at, 1);
      } else this.sizes[side][at] = size;
    } else if (size !== 0) {
      const insert = -at - 1;
      this.prices[side].splice(insert, 0, price);
      this.sizes[side].splice(insert, 0, size);
    }
  }

  /** Drops the levels past `depth` on `side`, telling `removed` each price it drops. */
  truncate(side: number, depth: number, removed: (side: number, price: number) => void): void {
    const prices = this.prices[side];
    for (let i = depth; i < prices.length; i++) removed(side, prices[i]);
    if (prices.length > depth) {
      prices.length = depth;
      this.sizes[side].length = depth;
    }
  }

  /** Best bid at or above best ask: no real market rests that way. */
  crossed(): boolean {
    const bids = this.prices[0];
    const asks = this.prices[1];
    return bids.length > 0 && asks.length > 0 && bids[0] >= asks[0];
  }

  /** Index of `price`, or -(insertion point) - 1. Bids are kept high to low, asks low to high. */
  private find(side: number, price: number): number {
    const prices = this.prices[side];
    const descending = side === BID;
    let lo = 0;
    let hi = prices.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = prices[mid];
      if (p === price) return mid;
      if (descending ? p > price : p < price) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }
}
