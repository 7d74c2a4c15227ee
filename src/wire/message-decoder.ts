import * as flatbuffers from 'flatbuffers';
import { Body } from './generated/bookcast/wire/body';
import { Candle } from './generated/bookcast/wire/candle';
import { Envelope } from './generated/bookcast/wire/envelope';
import { Error as ErrorBody } from './generated/bookcast/wire/error';
import { Heartbeat } from './generated/bookcast/wire/heartbeat';
import { L2Snapshot } from './generated/bookcast/wire/l2snapshot';
import { L2Update } from './generated/bookcast/wire/l2update';
import { L3Snapshot } from './generated/bookcast/wire/l3snapshot';
import { L3Update } from './generated/bookcast/wire/l3update';
import { Subscribed } from './generated/bookcast/wire/subscribed';
import { Ticker } from './generated/bookcast/wire/ticker';
import { Trade } from './generated/bookcast/wire/trade';
import { BadFrameError, verifyFrame } from './frame-verifier';

/** [price, size] in the symbol's units; best first. */
export type DecodedLevel = [price: number, size: number];

export interface DecodedOrder {
  orderId: number;
  price: number;
  size: number;
}

/** event: 0 add, 1 modify, 2 delete (OrderEvent). */
export interface DecodedOrderChange extends DecodedOrder {
  event: number;
}

interface SymbolMessage {
  symbol: string;
  sequence: number;
  /** Microseconds since the Unix epoch. */
  timestamp: number;
}

export interface DecodedL2Snapshot extends SymbolMessage {
  type: 'l2_snapshot';
  depth: number;
  priceDecimals: number;
  sizeDecimals: number;
  checksum: number;
  bids: DecodedLevel[];
  asks: DecodedLevel[];
}

export interface DecodedL2Update extends SymbolMessage {
  type: 'l2_update';
  depth: number;
  prevSequence: number;
  checksum: number;
  bids: DecodedLevel[];
  asks: DecodedLevel[];
}

export interface DecodedL3Snapshot extends SymbolMessage {
  type: 'l3_snapshot';
  priceDecimals: number;
  sizeDecimals: number;
  bids: DecodedOrder[];
  asks: DecodedOrder[];
}

export interface DecodedL3Update extends SymbolMessage {
  type: 'l3_update';
  prevSequence: number;
  bids: DecodedOrderChange[];
  asks: DecodedOrderChange[];
}

/** side: the aggressor's, 0 buy, 1 sell. makerOrderId 0 when unknown. */
export interface DecodedTrade extends SymbolMessage {
  type: 'trade';
  tradeId: number;
  price: number;
  size: number;
  side: number;
  makerOrderId: number;
}

/** 0 means none. The 24h figures read as 0 in frames from before they existed. */
export interface DecodedTicker extends SymbolMessage {
  type: 'ticker';
  bid: number;
  bidSize: number;
  ask: number;
  askSize: number;
  last: number;
  lastSize: number;
  volume24h: number;
  /** Exact volume = volume24h + volume24hRest (the rest is 0 below 2^53). */
  volume24hRest: number;
  high24h: number;
  low24h: number;
  open24h: number;
}

/**
 * interval: index into INTERVALS (src/engine/intervals.ts). start: microseconds since the epoch.
 * notional: sum of price * size (VWAP = notional / volume). count: trades, 0 for an empty candle.
 * The rests complete volume and notional past 2^53 (exact = volume + volumeRest).
 */
export interface DecodedCandle extends SymbolMessage {
  type: 'candle';
  interval: number;
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  volumeRest: number;
  notional: number;
  notionalRest: number;
  count: number;
  final: boolean;
}

export interface DecodedSubscriptionState {
  channel: string;
  symbol: string;
  depth: number;
  sequence: number;
}

export interface DecodedHeartbeat {
  type: 'heartbeat';
  timestamp: number;
  subscriptions: DecodedSubscriptionState[];
}

export interface DecodedSubscribed {
  type: 'subscribed';
  timestamp: number;
  channels: string[];
  symbols: string[];
  depth: number;
}

export interface DecodedError {
  type: 'error';
  timestamp: number;
  code: string;
  message: string;
}

export type DecodedMessage =
  | DecodedL2Snapshot
  | DecodedL2Update
  | DecodedL3Snapshot
  | DecodedL3Update
  | DecodedTrade
  | DecodedTicker
  | DecodedCandle
  | DecodedHeartbeat
  | DecodedSubscribed
  | DecodedError;

interface LevelVectors {
  bids(index: number): { price(): number; size(): number } | null;
  bidsLength(): number;
  asks(index: number): { price(): number; size(): number } | null;
  asksLength(): number;
}

function levels(length: number, at: (i: number) => { price(): number; size(): number } | null): DecodedLevel[] {
  const out: DecodedLevel[] = [];
  for (let i = 0; i < length; i++) {
    const level = at(i)!;
    out.push([level.price(), level.size()]);
  }
  return out;
}

function bookLevels(body: LevelVectors): { bids: DecodedLevel[]; asks: DecodedLevel[] } {
  return {
    bids: levels(body.bidsLength(), (i) => body.bids(i)),
    asks: levels(body.asksLength(), (i) => body.asks(i)),
  };
}

function orders(length: number, at: (i: number) => { orderId(): number; price(): number; size(): number } | null): DecodedOrder[] {
  const out: DecodedOrder[] = [];
  for (let i = 0; i < length; i++) {
    const order = at(i)!;
    out.push({ orderId: order.orderId(), price: order.price(), size: order.size() });
  }
  return out;
}

function orderChanges(
  length: number,
  at: (i: number) => { orderId(): number; price(): number; size(): number; event(): number } | null,
): DecodedOrderChange[] {
  const out: DecodedOrderChange[] = [];
  for (let i = 0; i < length; i++) {
    const change = at(i)!;
    out.push({ event: change.event(), orderId: change.orderId(), price: change.price(), size: change.size() });
  }
  return out;
}

function strings(length: number, at: (i: number) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < length; i++) out.push(at(i));
  return out;
}

/**
 * Decodes one frame into a plain object, for tests, tools and clients (it allocates freely).
 * The frame is verified first, so garbage throws BadFrameError (code BAD_FRAME) and nothing else.
 */
export function decodeMessage(bytes: Uint8Array): DecodedMessage {
  verifyFrame(bytes);
  const envelope = Envelope.getRootAsEnvelope(new flatbuffers.ByteBuffer(bytes));
  const timestamp = envelope.timestamp();
  const symbolMessage = { symbol: envelope.symbol() ?? '', sequence: envelope.sequence(), timestamp };
  switch (envelope.bodyType()) {
    case Body.L2Snapshot: {
      const body: L2Snapshot = envelope.body(new L2Snapshot());
      return {
        type: 'l2_snapshot',
        ...symbolMessage,
        depth: body.depth(),
        priceDecimals: body.priceDecimals(),
        sizeDecimals: body.sizeDecimals(),
        checksum: body.checksum(),
        ...bookLevels(body),
      };
    }
    case Body.L2Update: {
      const body: L2Update = envelope.body(new L2Update());
      return {
        type: 'l2_update',
        ...symbolMessage,
        depth: body.depth(),
        prevSequence: body.prevSequence(),
        checksum: body.checksum(),
        ...bookLevels(body),
      };
    }
    case Body.L3Snapshot: {
      const body: L3Snapshot = envelope.body(new L3Snapshot());
      return {
        type: 'l3_snapshot',
        ...symbolMessage,
        priceDecimals: body.priceDecimals(),
        sizeDecimals: body.sizeDecimals(),
        bids: orders(body.bidsLength(), (i) => body.bids(i)),
        asks: orders(body.asksLength(), (i) => body.asks(i)),
      };
    }
    case Body.L3Update: {
      const body: L3Update = envelope.body(new L3Update());
      return {
        type: 'l3_update',
        ...symbolMessage,
        prevSequence: body.prevSequence(),
        bids: orderChanges(body.bidsLength(), (i) => body.bids(i)),
        asks: orderChanges(body.asksLength(), (i) => body.asks(i)),
      };
    }
    case Body.Trade: {
      const body: Trade = envelope.body(new Trade());
      return {
        type: 'trade',
        ...symbolMessage,
        tradeId: body.tradeId(),
        price: body.price(),
        size: body.size(),
        side: body.side(),
        makerOrderId: body.makerOrderId(),
      };
    }
    case Body.Ticker: {
      const body: Ticker = envelope.body(new Ticker());
      return {
        type: 'ticker',
        ...symbolMessage,
        bid: body.bid(),
        bidSize: body.bidSize(),
        ask: body.ask(),
        askSize: body.askSize(),
        last: body.last(),
        lastSize: body.lastSize(),
        volume24h: body.volume24h(),
        volume24hRest: body.volume24hRest(),
        high24h: body.high24h(),
        low24h: body.low24h(),
        open24h: body.open24h(),
      };
    }
    case Body.Candle: {
      const body: Candle = envelope.body(new Candle());
      return {
        type: 'candle',
        ...symbolMessage,
        interval: body.interval(),
        start: body.start(),
        open: body.open(),
        high: body.high(),
        low: body.low(),
        close: body.close(),
        volume: body.volume(),
        volumeRest: body.volumeRest(),
        notional: body.notional(),
        notionalRest: body.notionalRest(),
        count: body.count(),
        final: body.final(),
      };
    }
    case Body.Heartbeat: {
      const body: Heartbeat = envelope.body(new Heartbeat());
      const subscriptions: DecodedSubscriptionState[] = [];
      for (let i = 0; i < body.subscriptionsLength(); i++) {
        const sub = body.subscriptions(i)!;
        subscriptions.push({ channel: sub.channel() ?? '', symbol: sub.symbol() ?? '', depth: sub.depth(), sequence: sub.sequence() });
      }
      return { type: 'heartbeat', timestamp, subscriptions };
    }
    case Body.Subscribed: {
      const body: Subscribed = envelope.body(new Subscribed());
      return {
        type: 'subscribed',
        timestamp,
        channels: strings(body.channelsLength(), (i) => body.channels(i)),
        symbols: strings(body.symbolsLength(), (i) => body.symbols(i)),
        depth: body.depth(),
      };
    }
    case Body.Error: {
      const body: ErrorBody = envelope.body(new ErrorBody());
      return { type: 'error', timestamp, code: body.code() ?? '', message: body.message() ?? '' };
    }
    default:
      throw new BadFrameError(`bad frame: unknown body type ${envelope.bodyType()}`);
  }
}
