import type { Permission } from '../auth/caller';
import { BookcastError } from '../errors';
import { L2_DEPTHS, MIRROR_DEPTH } from '../model/depths';
import type { Instrument } from '../model/instruments';
import { STREAM_L2, STREAM_L3, STREAM_TICKER, STREAM_TRADES } from '../model/streams';
import type { SessionHub } from '../distribution/session-hub';
import type { Session } from '../distribution/session';
import type { StreamTable } from '../distribution/streams';
import { decodeMessage, DecodedMessage } from '../wire/message-decoder';
import { echo, field, FixBody, fixBody, FixMessage } from './fix-codec';
import type { FixRenderer } from './fix-render';
import {
  ENTRY_BID,
  ENTRY_HIGH,
  ENTRY_LOW,
  ENTRY_OFFER,
  ENTRY_OPENING,
  ENTRY_TRADE,
  ENTRY_VOLUME,
  MD_REJECT_DUPLICATE_MD_REQ_ID,
  MD_REJECT_INSUFFICIENT_BANDWIDTH,
  MD_REJECT_INSUFFICIENT_PERMISSIONS,
  MD_REJECT_UNKNOWN_SYMBOL,
  MD_REJECT_UNSUPPORTED_AGGREGATED_BOOK,
  MD_REJECT_UNSUPPORTED_MARKET_DEPTH,
  MD_REJECT_UNSUPPORTED_MD_ENTRY_TYPE,
  MD_REJECT_UNSUPPORTED_MD_UPDATE_TYPE,
  MD_REJECT_UNSUPPORTED_SUBSCRIPTION_TYPE,
  MSG_MARKET_DATA_INCREMENTAL,
  MSG_MARKET_DATA_REQUEST_REJECT,
  MSG_MARKET_DATA_SNAPSHOT,
  ROUTE_MARKET_DATA_REQUEST,
  TAG_AGGREGATED_BOOK,
  TAG_MARKET_DEPTH,
  TAG_MD_ENTRY_TYPE,
  TAG_MD_REQ_ID,
  TAG_MD_REQ_REJ_REASON,
  TAG_MD_UPDATE_TYPE,
  TAG_POSS_RESEND,
  TAG_SUBSCRIPTION_REQUEST_TYPE,
  TAG_SYMBOL,
  TAG_TEXT,
} from './fix-tags';

/** What one connection's FIX session needs to send market data. */
export interface MarketDataSender {
  /** Sends an application message with the next MsgSeqNum and keeps it for resends. */
  sendApp(msgType: string, body: FixBody): void;
  /** Reject (3) for a missing or malformed field of an inbound message. */
  rejectField(m: FixMessage, tag: number, reason: number, text: string): void;
  /** Counts a refusal for the metrics (FixGateway.refused). */
  refused(route: string, code: string): void;
}

/** One stream a request follows: the MDReqID it answers to, and whether it ends after its snapshot. */
interface Following {
  mdReqId: string;
  snapshotOnly: boolean;
  /** A snapshot-only request that has had its W: later updates are not for it. */
  done: boolean;
}

const ENTRY_TYPES = [ENTRY_BID, ENTRY_OFFER, ENTRY_TRADE, ENTRY_OPENING, ENTRY_HIGH, ENTRY_LOW, ENTRY_VOLUME];
const TICKER_ENTRIES = [ENTRY_OPENING, ENTRY_HIGH, ENTRY_LOW, ENTRY_VOLUME];

/** Refused request: MDReqRejReason (281), and a Text naming the error code. */
class RequestRejected extends Error {
  constructor(
    readonly reason: string,
    readonly code: string,
    text: string,
  ) {
    super(text);
  }
}

/**
 * One FIX session's market data: MarketDataRequest (V) → SessionHub subscriptions (the same
 * joins, limits and slow-consumer ladder as WebSocket sessions), and the hub's deliveries → W
 * and X. Each stream of an instrument is followed under one MDReqID at a time.
 *
 * Mapping of a request onto bookcast streams, per symbol:
 *   bid (0) + offer (1)                 the L2 stream at MarketDepth (264; 0 = the deepest, 500 levels),
 *                                       or L3 with AggregatedBook (266) = N (order by order, MDEntryID = order id)
 *   trade (2)                           the trades stream (263=1); in a snapshot (263=0), the ticker's last trade
 *   opening/high/low/volume (4/7/8/B)   the ticker stream: its 24 h figures (all four together)
 */
export class FixMarketData {
  private readonly byRequest = new Map<string, number[]>();
  private readonly byStream = new Map<number, Following>();

  constructor(
    private readonly session: Session,
    private readonly hub: SessionHub,
    private readonly streams: StreamTable,
    private readonly renderer: FixRenderer,
    private readonly permissions: ReadonlySet<Permission>,
    private readonly sender: MarketDataSender,
  ) {}

  /** MarketDataRequest (V). */
  request(m: FixMessage): void {
    const mdReqId = m.get(TAG_MD_REQ_ID);
    const type = m.get(TAG_SUBSCRIPTION_REQUEST_TYPE);
    if (mdReqId === undefined || mdReqId === '') return this.sender.rejectField(m, TAG_MD_REQ_ID, 1, 'MDReqID (262) is required');
    if (type === undefined) return this.sender.rejectField(m, TAG_SUBSCRIPTION_REQUEST_TYPE, 1, 'SubscriptionRequestType (263) is required');
    if (type === '2') return this.unsubscribe(mdReqId);
    // A PossResend copy of a request this session already holds is the same request: ignore it.
    if (this.byRequest.has(mdReqId) && m.get(TAG_POSS_RESEND) === 'Y') return;
    try {
      const keys = this.resolve(m, mdReqId, type);
      this.hub.admit(this.session, keys.length, 0);
      this.byRequest.set(mdReqId, keys);
      for (const key of keys) {
        this.byStream.set(key, { mdReqId, snapshotOnly: type === '0', done: false });
        this.hub.subscribe(this.session, key, 0);
      }
    } catch (err) {
      if (err instanceof RequestRejected) this.reject(mdReqId, err.reason, err.code, err.message);
      else if (err instanceof BookcastError && err.code === 'TOO_MANY_SUBSCRIPTIONS') this.reject(mdReqId, MD_REJECT_INSUFFICIENT_BANDWIDTH, err.code, err.message);
      else throw err;
    }
  }

  /** The stream keys a request asks for, or RequestRejected. */
  private resolve(m: FixMessage, mdReqId: string, type: string): number[] {
    if (this.byRequest.has(mdReqId)) throw new RequestRejected(MD_REJECT_DUPLICATE_MD_REQ_ID, 'FIX_DUPLICATE_REQUEST', `MDReqID ${mdReqId} is already in use`);
    if (type !== '0' && type !== '1') throw new RequestRejected(MD_REJECT_UNSUPPORTED_SUBSCRIPTION_TYPE, 'INVALID_PARAMETER', 'SubscriptionRequestType (263) must be 0, 1 or 2');
    const depthText = m.get(TAG_MARKET_DEPTH);
    const depth = depthText === '0' ? MIRROR_DEPTH : Number(depthText);
    const depthIndex = L2_DEPTHS.indexOf(depth);
    if (depthText === undefined || !/^[0-9]+$/.test(depthText) || depthIndex < 0) {
      throw new RequestRejected(MD_REJECT_UNSUPPORTED_MARKET_DEPTH, 'INVALID_DEPTH', `MarketDepth (264) must be 0 (full, ${MIRROR_DEPTH} levels) or one of ${L2_DEPTHS.join(', ')}`);
    }
    const updateType = m.get(TAG_MD_UPDATE_TYPE);
    if (type === '1' && updateType !== undefined && updateType !== '1') {
      throw new RequestRejected(MD_REJECT_UNSUPPORTED_MD_UPDATE_TYPE, 'INVALID_PARAMETER', 'MDUpdateType (265) must be 1 (incremental refresh)');
    }
    const aggregated = m.get(TAG_AGGREGATED_BOOK);
    if (aggregated !== undefined && aggregated !== 'Y' && aggregated !== 'N') {
      throw new RequestRejected(MD_REJECT_UNSUPPORTED_AGGREGATED_BOOK, 'INVALID_PARAMETER', 'AggregatedBook (266) must be Y or N');
    }
    const entries = new Set(m.all(TAG_MD_ENTRY_TYPE));
    if (entries.size === 0) throw new RequestRejected(MD_REJECT_UNSUPPORTED_MD_ENTRY_TYPE, 'INVALID_PARAMETER', 'at least one MDEntryType (269) is required');
    for (const e of entries) {
      if (!ENTRY_TYPES.includes(e)) throw new RequestRejected(MD_REJECT_UNSUPPORTED_MD_ENTRY_TYPE, 'INVALID_PARAMETER', `MDEntryType ${echo(e)} is not offered (0, 1, 2, 4, 7, 8, B)`);
    }
    const book = entries.has(ENTRY_BID) || entries.has(ENTRY_OFFER);
    if (book && !(entries.has(ENTRY_BID) && entries.has(ENTRY_OFFER))) {
      throw new RequestRejected(MD_REJECT_UNSUPPORTED_MD_ENTRY_TYPE, 'INVALID_PARAMETER', 'bids (0) and offers (1) come together: the book checksum covers both sides');
    }
    const l3 = aggregated === 'N';
    if (l3 && !book) throw new RequestRejected(MD_REJECT_UNSUPPORTED_AGGREGATED_BOOK, 'INVALID_PARAMETER', 'AggregatedBook N (order by order) needs bids (0) and offers (1)');
    const needs: Permission[] = [];
    if (book) needs.push(l3 ? 'l3' : 'l2');
    if (entries.has(ENTRY_TRADE)) needs.push(type === '0' ? 'l1' : 'trades');
    if (TICKER_ENTRIES.some((e) => entries.has(e))) needs.push('l1');
    for (const p of needs) {
      if (!this.permissions.has(p)) throw new RequestRejected(MD_REJECT_INSUFFICIENT_PERMISSIONS, 'FIX_PERMISSION_DENIED', `this session may not receive ${p} data`);
    }
    const symbols = m.all(TAG_SYMBOL);
    if (symbols.length === 0) throw new RequestRejected(MD_REJECT_UNKNOWN_SYMBOL, 'UNKNOWN_SYMBOL', 'at least one Symbol (55) is required');
    const keys: number[] = [];
    for (const s of symbols) {
      const ins = this.renderer.instrument(s);
      if (ins === undefined) throw new RequestRejected(MD_REJECT_UNKNOWN_SYMBOL, 'UNKNOWN_SYMBOL', `unknown symbol ${echo(s)}`);
      const add = (stream: number) => {
        const key = this.streams.index(ins.index, stream);
        if (keys.includes(key)) return;
        const held = this.byStream.get(key);
        if (held !== undefined) {
          throw new RequestRejected(MD_REJECT_DUPLICATE_MD_REQ_ID, 'FIX_DUPLICATE_REQUEST', `${ins.symbol} is already followed under MDReqID ${echo(held.mdReqId)}`);
        }
        keys.push(key);
      };
      if (book) add(l3 ? STREAM_L3 : STREAM_L2 + depthIndex);
      if (entries.has(ENTRY_TRADE)) add(type === '0' ? STREAM_TICKER : STREAM_TRADES);
      if (TICKER_ENTRIES.some((e) => entries.has(e))) add(STREAM_TICKER);
    }
    return keys;
  }

  private unsubscribe(mdReqId: string): void {
    const keys = this.byRequest.get(mdReqId);
    if (keys === undefined) return this.reject(mdReqId, MD_REJECT_UNKNOWN_SYMBOL, 'INVALID_PARAMETER', `no subscription has MDReqID ${echo(mdReqId)}`);
    this.byRequest.delete(mdReqId);
    for (const key of keys) {
      this.byStream.delete(key);
      this.hub.unsubscribe(this.session, key);
    }
  }

  private reject(mdReqId: string, reason: string, code: string, text: string): void {
    this.sender.refused(ROUTE_MARKET_DATA_REQUEST, code);
    this.sender.sendApp(
      MSG_MARKET_DATA_REQUEST_REJECT,
      fixBody(field(TAG_MD_REQ_ID, echo(mdReqId)) + field(TAG_MD_REQ_REJ_REASON, reason) + field(TAG_TEXT, echo(`${code}: ${text}`))),
    );
  }

  /**
   * What the hub sends this session alone (SessionTransport.send): the snapshot it joins with
   * (W), or a trade replayed after a slow-consumer resync (X).
   */
  deliver(bytes: Uint8Array): void {
    const m = decodeMessage(bytes);
    const key = this.keyOf(m);
    if (key < 0) return;
    const ins = this.renderer.instruments[this.streams.symbolOf(key)];
    if (m.type === 'trade') {
      const body = this.renderer.incremental(m, ins);
      if (body !== null) this.incremental(key, MSG_MARKET_DATA_INCREMENTAL, body);
    } else {
      this.snapshot(key, m, ins);
    }
  }

  snapshot(key: number, m: DecodedMessage, ins: Instrument): void {
    const f = this.byStream.get(key);
    if (f === undefined || f.done) return;
    const body = this.renderer.snapshot(key, f.mdReqId, m, ins);
    if (body === null) return;
    this.sender.sendApp(MSG_MARKET_DATA_SNAPSHOT, body);
    if (f.snapshotOnly) {
      f.done = true;
      // After the hub's join returns: it adds the session to the outlet once this call is over.
      setImmediate(() => this.finishSnapshot(key, f));
    }
  }

  incremental(key: number, msgType: string, body: FixBody): void {
    const f = this.byStream.get(key);
    if (f !== undefined && !f.done) this.sender.sendApp(msgType, body);
  }

  /** The connection ended: the hub forgets the session (and with it every subscription). */
  clear(): void {
    this.byRequest.clear();
    this.byStream.clear();
  }

  private finishSnapshot(key: number, f: Following): void {
    if (this.byStream.get(key) !== f) return;
    this.byStream.delete(key);
    this.hub.unsubscribe(this.session, key);
    const keys = this.byRequest.get(f.mdReqId);
    if (keys === undefined) return;
    const rest = keys.filter((k) => k !== key);
    if (rest.length === 0) this.byRequest.delete(f.mdReqId);
    else this.byRequest.set(f.mdReqId, rest);
  }

  private keyOf(m: DecodedMessage): number {
    if (!('symbol' in m)) return -1;
    const ins = this.renderer.instrument(m.symbol);
    if (ins === undefined) return -1;
    let stream: number;
    if (m.type === 'l2_snapshot' || m.type === 'l2_update') stream = STREAM_L2 + L2_DEPTHS.indexOf(m.depth);
    else if (m.type === 'l3_snapshot' || m.type === 'l3_update') stream = STREAM_L3;
    else if (m.type === 'ticker') stream = STREAM_TICKER;
    else if (m.type === 'trade') stream = STREAM_TRADES;
    else return -1;
    return this.streams.index(ins.index, stream);
  }
}
