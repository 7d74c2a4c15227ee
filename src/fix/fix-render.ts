import type { Instrument } from '../model/instruments';
import { formatUnitPair, formatUnits } from '../util/decimal';
import type { DecodedL2Snapshot, DecodedL3Snapshot, DecodedL3Update, DecodedMessage, DecodedTicker, DecodedTrade } from '../wire/message-decoder';
import { Body, byteBufferOf, Envelope, L2Update, Level } from '../wire/frame-readers';
import { echo, field, FixBody, fixBody } from './fix-codec';
import {
  ACTION_CHANGE,
  ACTION_DELETE,
  ACTION_NEW,
  ENTRY_BID,
  ENTRY_HIGH,
  ENTRY_LOW,
  ENTRY_OFFER,
  ENTRY_OPENING,
  ENTRY_TRADE,
  ENTRY_VOLUME,
  TAG_BOOK_CHECKSUM,
  TAG_MD_ENTRY_ID,
  TAG_MD_ENTRY_PX,
  TAG_MD_ENTRY_SIZE,
  TAG_MD_ENTRY_TYPE,
  TAG_MD_REQ_ID,
  TAG_MD_UPDATE_ACTION,
  TAG_NO_MD_ENTRIES,
  TAG_PREV_RPT_SEQ,
  TAG_RPT_SEQ,
  TAG_SYMBOL,
} from './fix-tags';

/** MDEntryPositionNo (290): a level's place in the snapshot, 1 = best. */
const TAG_MD_ENTRY_POSITION_NO = 290;

// Accessors re-pointed at each L2 update frame: reading one allocates nothing but the body text.
const envelope = new Envelope();
const l2Update = new L2Update();
const level = new Level();

/** The price levels a stream's FIX followers hold, so an update can say new (0) or change (1). */
class Levels {
  readonly bids = new Set<number>();
  readonly asks = new Set<number>();
}

/**
 * FIX bodies for bookcast's messages (prices and sizes as the exact decimals of the JSON feed, so
 * the book checksum computed from them is the feed's). Snapshots become a W per session (it
 * carries the session's MDReqID); updates become one X body shared by every FIX session on the
 * stream (no MDReqID: it is optional in X, and leaving it out is what lets the body be shared).
 *
 * W: 262 MDReqID | 55 Symbol | 83 RptSeq (the snapshot's sequence) | 20001 BookChecksum (L2) | 268 entries
 * X: 20001 BookChecksum (L2) | 20002 PrevRptSeq (L2, L3) | 268 entries of 279 action, 269 type, 278 id, 55, 270, 271, 83 RptSeq
 */
export class FixRenderer {
  /** Per stream key: the levels FIX followers hold (kept only while FIX sessions follow the stream). */
  private readonly levels = new Map<number, Levels>();
  private readonly bySymbol = new Map<string, Instrument>();

  constructor(readonly instruments: readonly Instrument[]) {
    for (const i of instruments) this.bySymbol.set(i.symbol, i);
  }

  instrument(symbol: string): Instrument | undefined {
    return this.bySymbol.get(symbol);
  }

  /** A snapshot as W for one request; remembers an L2 book's levels for the updates after it. */
  snapshot(key: number, mdReqId: string, m: DecodedMessage, ins: Instrument): FixBody | null {
    const head = field(TAG_MD_REQ_ID, echo(mdReqId)) + field(TAG_SYMBOL, ins.symbol);
    switch (m.type) {
      case 'l2_snapshot':
        this.remember(key, m);
        return fixBody(head + field(TAG_RPT_SEQ, m.sequence) + field(TAG_BOOK_CHECKSUM, m.checksum) + levelEntries(m, ins));
      case 'l3_snapshot':
        return fixBody(head + field(TAG_RPT_SEQ, m.sequence) + orderEntries(m, ins));
      case 'ticker':
        return fixBody(head + field(TAG_RPT_SEQ, m.sequence) + tickerEntries(m, ins, null));
      default:
        return null;
    }
  }

  /**
   * An L2 update frame (most of the traffic) as the X body every FIX follower of the stream
   * shares, read in place from the FlatBuffers frame the core made (no verification, no decoded
   * object); null for any other kind of frame, which goes through `incremental`.
   */
  l2Update(key: number, bytes: Uint8Array, ins: Instrument): FixBody | null {
    Envelope.getRootAsEnvelope(byteBufferOf(bytes), envelope);
    if (envelope.bodyType() !== Body.L2Update) return null;
    envelope.body(l2Update);
    const seq = envelope.sequence();
    const l = this.levels.get(key);
    const bids = l2Update.bidsLength();
    const asks = l2Update.asksLength();
    let out = field(TAG_BOOK_CHECKSUM, l2Update.checksum()) + field(TAG_PREV_RPT_SEQ, l2Update.prevSequence()) + field(TAG_NO_MD_ENTRIES, bids + asks);
    for (let i = 0; i < bids; i++) out += levelChange(l2Update.bids(i, level)!, ENTRY_BID, l?.bids, seq, ins);
    for (let i = 0; i < asks; i++) out += levelChange(l2Update.asks(i, level)!, ENTRY_OFFER, l?.asks, seq, ins);
    return fixBody(out);
  }

  /** Any other update (L3, trade, ticker) as the X body every FIX follower of the stream shares. */
  incremental(m: DecodedMessage, ins: Instrument): FixBody | null {
    switch (m.type) {
      case 'l3_update':
        return fixBody(field(TAG_PREV_RPT_SEQ, m.prevSequence) + orderChanges(m, ins));
      case 'trade':
        return fixBody(tradeEntry(m, ins));
      case 'ticker':
        return fixBody(tickerEntries(m, ins, ACTION_NEW));
      default:
        return null;
    }
  }

  /** No FIX session follows the stream any more: its levels would go stale. */
  forget(key: number): void {
    this.levels.delete(key);
  }

  private remember(key: number, m: DecodedL2Snapshot): void {
    let l = this.levels.get(key);
    if (l === undefined) {
      l = new Levels();
      this.levels.set(key, l);
    }
    l.bids.clear();
    l.asks.clear();
    for (const [price] of m.bids) l.bids.add(price);
    for (const [price] of m.asks) l.asks.add(price);
  }
}

/** One changed level of an L2 update: new (a price the followers do not hold), change, or delete (size 0). */
function levelChange(lv: Level, type: string, held: Set<number> | undefined, seq: number, ins: Instrument): string {
  const price = lv.price();
  const size = lv.size();
  let action = ACTION_CHANGE;
  if (size === 0) {
    action = ACTION_DELETE;
    held?.delete(price);
  } else if (held !== undefined && !held.has(price)) {
    action = ACTION_NEW;
    held.add(price);
  }
  return (
    field(TAG_MD_UPDATE_ACTION, action) +
    field(TAG_MD_ENTRY_TYPE, type) +
    field(TAG_SYMBOL, ins.symbol) +
    field(TAG_MD_ENTRY_PX, formatUnits(price, ins.priceDecimals)) +
    (size === 0 ? '' : field(TAG_MD_ENTRY_SIZE, formatUnits(size, ins.sizeDecimals))) +
    field(TAG_RPT_SEQ, seq)
  );
}

function levelEntries(m: DecodedL2Snapshot, ins: Instrument): string {
  let out = field(TAG_NO_MD_ENTRIES, m.bids.length + m.asks.length);
  const side = (levels: [number, number][], type: string) => {
    levels.forEach(([price, size], i) => {
      out +=
        field(TAG_MD_ENTRY_TYPE, type) +
        field(TAG_MD_ENTRY_PX, formatUnits(price, ins.priceDecimals)) +
        field(TAG_MD_ENTRY_SIZE, formatUnits(size, ins.sizeDecimals)) +
        field(TAG_MD_ENTRY_POSITION_NO, i + 1);
    });
  };
  side(m.bids, ENTRY_BID);
  side(m.asks, ENTRY_OFFER);
  return out;
}

/** L3: one entry per order, MDEntryID (278) = order id, in queue order within each level. */
function orderEntries(m: DecodedL3Snapshot, ins: Instrument): string {
  let out = field(TAG_NO_MD_ENTRIES, m.bids.length + m.asks.length);
  const side = (orders: DecodedL3Snapshot['bids'], type: string) => {
    for (const o of orders) {
      out +=
        field(TAG_MD_ENTRY_TYPE, type) +
        field(TAG_MD_ENTRY_PX, formatUnits(o.price, ins.priceDecimals)) +
        field(TAG_MD_ENTRY_SIZE, formatUnits(o.size, ins.sizeDecimals)) +
        field(TAG_MD_ENTRY_ID, o.orderId);
    }
  };
  side(m.bids, ENTRY_BID);
  side(m.asks, ENTRY_OFFER);
  return out;
}

/** OrderEvent 0 add, 1 modify, 2 delete map straight onto MDUpdateAction new, change, delete. */
function orderChanges(m: DecodedL3Update, ins: Instrument): string {
  let out = field(TAG_NO_MD_ENTRIES, m.bids.length + m.asks.length);
  const side = (changes: DecodedL3Update['bids'], type: string) => {
    for (const c of changes) {
      out +=
        field(TAG_MD_UPDATE_ACTION, c.event === 0 ? ACTION_NEW : c.event === 1 ? ACTION_CHANGE : ACTION_DELETE) +
        field(TAG_MD_ENTRY_TYPE, type) +
        field(TAG_MD_ENTRY_ID, c.orderId) +
        field(TAG_SYMBOL, ins.symbol) +
        field(TAG_MD_ENTRY_PX, formatUnits(c.price, ins.priceDecimals)) +
        field(TAG_MD_ENTRY_SIZE, formatUnits(c.size, ins.sizeDecimals)) +
        field(TAG_RPT_SEQ, m.sequence);
    }
  };
  side(m.bids, ENTRY_BID);
  side(m.asks, ENTRY_OFFER);
  return out;
}

/** A trade: MDEntryID (278) = bookcast's trade id. */
function tradeEntry(m: DecodedTrade, ins: Instrument): string {
  return (
    field(TAG_NO_MD_ENTRIES, 1) +
    field(TAG_MD_UPDATE_ACTION, ACTION_NEW) +
    field(TAG_MD_ENTRY_TYPE, ENTRY_TRADE) +
    field(TAG_MD_ENTRY_ID, m.tradeId) +
    field(TAG_SYMBOL, ins.symbol) +
    field(TAG_MD_ENTRY_PX, formatUnits(m.price, ins.priceDecimals)) +
    field(TAG_MD_ENTRY_SIZE, formatUnits(m.size, ins.sizeDecimals)) +
    field(TAG_RPT_SEQ, m.sequence)
  );
}

/**
 * The ticker's 24 h figures as opening (4), high (7), low (8) and volume (B) entries, and its
 * last trade (2) in a snapshot; a figure that does not exist yet (0: no trade in the window) is
 * left out. `action` null: a W entry (no MDUpdateAction).
 */
function tickerEntries(m: DecodedTicker, ins: Instrument, action: string | null): string {
  const entries: string[] = [];
  const entry = (type: string, price: number, size: number, sizeRest = 0) => {
    let e = (action === null ? '' : field(TAG_MD_UPDATE_ACTION, action)) + field(TAG_MD_ENTRY_TYPE, type);
    if (action !== null) e += field(TAG_SYMBOL, ins.symbol);
    if (price > 0) e += field(TAG_MD_ENTRY_PX, formatUnits(price, ins.priceDecimals));
    if (size >= 0) e += field(TAG_MD_ENTRY_SIZE, formatUnitPair(size, sizeRest, ins.sizeDecimals));
    if (action !== null) e += field(TAG_RPT_SEQ, m.sequence);
    entries.push(e);
  };
  if (action === null && m.last > 0) entry(ENTRY_TRADE, m.last, m.lastSize);
  if (m.open24h > 0) entry(ENTRY_OPENING, m.open24h, -1);
  if (m.high24h > 0) entry(ENTRY_HIGH, m.high24h, -1);
  if (m.low24h > 0) entry(ENTRY_LOW, m.low24h, -1);
  entry(ENTRY_VOLUME, 0, m.volume24h, m.volume24hRest);
  return field(TAG_NO_MD_ENTRIES, entries.length) + entries.join('');
}
