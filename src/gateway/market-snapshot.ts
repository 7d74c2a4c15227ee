import {
  BookMirrorReader,
  M_ASK_COUNT,
  M_ASK_LEVELS,
  M_BID_COUNT,
  M_BID_LEVELS,
  M_HEADER_WORDS,
  M_HIGH_24H,
  M_LAST_PRICE,
  M_LAST_SIZE,
  M_LOW_24H,
  M_NOTIONAL_24H,
  M_NOTIONAL_24H_REST,
  M_OPEN_24H,
  M_SEQUENCE,
  M_TIMESTAMP,
  M_TRADES_24H,
  M_VOLUME_24H,
  M_VOLUME_24H_REST,
} from '../engine/book-mirror';
import type { Instrument } from '../model/instruments';
import { BookcastError } from '../errors';
import { formatBigUnits, formatUnitPair, formatUnits } from '../util/decimal';
import { pairOfBig } from '../util/exact-sum';
import { changePercent, vwapUnits } from '../util/market-math';
import { formatTimestampMicros } from '../wire/timestamp';
import { CurrencyConverter, formatConverted, Rate } from './currency-converter';
import type { BookSnapshotRecord, CandleRecord } from '../store/store';

/** Fields a Market Data API client can ask for; the default set is the first eight. */
export const SNAPSHOT_FIELDS = [
  'price', 'volume', 'bid', 'ask', 'spread', 'mid_price', 'vwap', 'trade_count',
  'bid_size', 'ask_size', 'last_size', 'high_24h', 'low_24h', 'open_24h', 'change_24h', 'quality_score',
] as const;
export type SnapshotField = (typeof SNAPSHOT_FIELDS)[number];
export const DEFAULT_FIELDS: readonly SnapshotField[] = SNAPSHOT_FIELDS.slice(0, 8);
/** Fields that are prices, hence converted when another currency is asked for. */
const PRICE_FIELDS = new Set<SnapshotField>(['price', 'bid', 'ask', 'spread', 'mid_price', 'vwap', 'high_24h', 'low_24h', 'open_24h']);

/**
 * The field set a client asked for, validated, deduplicated and in SNAPSHOT_FIELDS order: every
 * ordering of the same set is the same answer (and the same cache key, see latest-renders.ts).
 */
export function parseFields(text: string | undefined): SnapshotField[] {
  if (text === undefined || text === '') return [...DEFAULT_FIELDS];
  const asked = new Set<string>();
  for (const raw of text.split(',')) {
    const f = raw.trim();
    if (!(SNAPSHOT_FIELDS as readonly string[]).includes(f)) {
      throw new BookcastError('INVALID_PARAMETER', `unknown field "${f}"; fields are ${SNAPSHOT_FIELDS.join(', ')}`);
    }
    asked.add(f);
  }
  return SNAPSHOT_FIELDS.filter((f) => asked.has(f));
}

/**
 * The quality score (0–1) says how much to trust a snapshot right now. It multiplies:
 * freshness (1 while the last event is at most 5 s old, falling linearly to 0 at 60 s),
 * book health (1 with two uncrossed sides, 0.5 with one side empty, 0.25 crossed or locked,
 * 0 with no book at all) and depth (1 with at least 5 levels a side, down to 0.5 with one).
 */
export function qualityScore(ageMicros: number, bids: number, asks: number, bidPrice: number, askPrice: number, bidLevels: number, askLevels: number): number {
  const age = ageMicros / 1e6;
  const freshness = age <= 5 ? 1 : age >= 60 ? 0 : 1 - (age - 5) / 55;
  let health: number;
  if (bids === 0 && asks === 0) health = 0;
  else if (bids === 0 || asks === 0) health = 0.5;
  else health = bidPrice >= askPrice ? 0.25 : 1;
  const levels = Math.min(bidLevels, askLevels);
  const depth = levels >= 5 ? 1 : 0.5 + Math.max(0, levels - 1) * 0.125;
  return Math.round(freshness * health * depth * 100) / 100;
}

/** One consistent snapshot of a symbol, rendered for the Market Data API. */
export interface MarketSnapshot {
  symbol: string;
  sequence: number;
  timestamp: string | null;
  currency: string;
  data: Record<string, string | number | null>;
}

/**
 * Builds Market Data API snapshots from the shared-memory mirror: one seqlock read per symbol,
 * so every field of one answer comes from the same sequence.
 */
export class MarketSnapshots {
  constructor(
    private readonly mirror: BookMirrorReader,
    private readonly converter: CurrencyConverter,
  ) {}

  /** Time (µs) of the last event the mirror holds for an instrument; 0 before any. */
  timestampOf(instrument: Instrument): number {
    return this.mirror.read(instrument.index, 1)[M_TIMESTAMP];
  }

  /** The sequence the mirror holds for an instrument (cheap: header and one level). */
  sequenceOf(instrument: Instrument): number {
    return this.mirror.sequence(instrument.index);
  }

  snapshot(instrument: Instrument, fields: readonly SnapshotField[], currency: string | undefined, now: number): MarketSnapshot {
    const target = currency ?? instrument.quote;
    const path = this.converter.path(instrument.quote, target);
    // A private copy: converting reads other instruments through the same reader.
    const v = this.mirror.read(instrument.index, 1).slice(0, M_HEADER_WORDS + 4);
    const d = instrument.priceDecimals;
    const sd = instrument.sizeDecimals;
    const bids = v[M_BID_COUNT];
    const asks = v[M_ASK_COUNT];
    const bid = bids > 0 ? v[M_HEADER_WORDS] : 0;
    const ask = asks > 0 ? v[M_HEADER_WORDS + 2] : 0;
    const volume = v[M_VOLUME_24H];
    const volumeRest = v[M_VOLUME_24H_REST];
    const last = v[M_LAST_PRICE];
    const open = v[M_OPEN_24H];
    // Prices as [units, decimals] before any conversion; null when there is none.
    const price = (field: SnapshotField): [number, number] | null => {
      switch (field) {
        case 'price':
          return last > 0 ? [last, d] : null;
        case 'bid':
          return bid > 0 ? [bid, d] : null;
        case 'ask':
          return ask > 0 ? [ask, d] : null;
        case 'spread':
          return bid > 0 && ask > 0 ? [ask - bid, d] : null;
        case 'mid_price':
          return bid > 0 && ask > 0 ? [(bid + ask) * 5, d + 1] : null;
        case 'vwap': {
          const vwap = vwapUnits(v[M_NOTIONAL_24H], v[M_NOTIONAL_24H_REST], volume, volumeRest);
          return vwap === null ? null : [vwap, d];
        }
        case 'high_24h':
          return v[M_HIGH_24H] > 0 ? [v[M_HIGH_24H], d] : null;
        case 'low_24h':
          return v[M_LOW_24H] > 0 ? [v[M_LOW_24H], d] : null;
        default:
          return open > 0 ? [open, d] : null;
      }
    };
    const data: Record<string, string | number | null> = {};
    for (const field of fields) {
      if (PRICE_FIELDS.has(field)) {
        const p = price(field);
        if (p === null) data[field] = null;
        else if (path.length === 0) data[field] = formatUnits(p[0], p[1]);
        else data[field] = formatConverted(this.converter.convert(p[0], p[1], path, (i) => this.rate(i)));
        continue;
      }
      switch (field) {
        case 'volume':
          data.volume = formatUnitPair(volume, volumeRest, sd);
          break;
        case 'trade_count':
          data.trade_count = v[M_TRADES_24H];
          break;
        case 'bid_size':
          data.bid_size = bids > 0 ? formatUnits(v[M_HEADER_WORDS + 1], sd) : null;
          break;
        case 'ask_size':
          data.ask_size = asks > 0 ? formatUnits(v[M_HEADER_WORDS + 3], sd) : null;
          break;
        case 'last_size':
          data.last_size = last > 0 ? formatUnits(v[M_LAST_SIZE], sd) : null;
          break;
        case 'change_24h':
          data.change_24h = changePercent(last, open);
          break;
        case 'quality_score': {
          const ts = v[M_TIMESTAMP];
          data.quality_score = qualityScore(ts > 0 ? now - ts : Infinity, bids, asks, bid, ask, v[M_BID_LEVELS], v[M_ASK_LEVELS]);
          break;
        }
      }
    }
    return {
      symbol: instrument.symbol,
      sequence: v[M_SEQUENCE],
      timestamp: v[M_TIMESTAMP] > 0 ? formatTimestampMicros(v[M_TIMESTAMP]) : null,
      currency: target,
      data,
    };
  }

  /** A conversion hop's rate: the pair's mid, or its last trade when a side is empty. */
  private rate(instrument: Instrument): Rate | null {
    const v = this.mirror.read(instrument.index, 1);
    const d = instrument.priceDecimals;
    if (v[M_BID_COUNT] > 0 && v[M_ASK_COUNT] > 0) {
      return { units: BigInt(v[M_HEADER_WORDS] + v[M_HEADER_WORDS + 2]) * 5n, decimals: d + 1 };
    }
    return v[M_LAST_PRICE] > 0 ? { units: BigInt(v[M_LAST_PRICE]), decimals: d } : null;
  }
}

/**
 * A Market Data API snapshot rebuilt from storage for a past time: book fields from a stored
 * book snapshot, trade figures from stored one-minute candles of the 24 hours before `asOf`
 * (price is the last candle's close). Prices stay in the quote currency.
 */
export function historicSnapshot(
  instrument: Instrument,
  fields: readonly SnapshotField[],
  asOf: number,
  book: BookSnapshotRecord | null,
  candles: readonly CandleRecord[],
): MarketSnapshot {
  const d = instrument.priceDecimals;
  const sd = instrument.sizeDecimals;
  const bid = book !== null && book.bids.length > 0 ? book.bids[0] : null;
  const ask = book !== null && book.asks.length > 0 ? book.asks[0] : null;
  // Summed in BigInt: candles' sums are exact pairs, and so is their total (off the hot path).
  let volume = 0n;
  let notional = 0n;
  let count = 0;
  let high = 0;
  let low = 0;
  for (const c of candles) {
    volume += BigInt(c.volume) + BigInt(c.volumeRest);
    notional += BigInt(c.notional) + BigInt(c.notionalRest);
    count += c.count;
    if (c.high > high) high = c.high;
    if (low === 0 || c.low < low) low = c.low;
  }
  const last = candles.length > 0 ? candles[candles.length - 1].close : 0;
  const open = candles.length > 0 ? candles[0].open : 0;
  const price = (units: number | null, decimals = d) => (units === null || units === 0 ? null : formatUnits(units, decimals));
  const data: Record<string, string | number | null> = {};
  for (const field of fields) {
    switch (field) {
      case 'price': data.price = price(last); break;
      case 'volume': data.volume = formatBigUnits(volume, sd); break;
      case 'bid': data.bid = bid && price(bid[0]); break;
      case 'ask': data.ask = ask && price(ask[0]); break;
      case 'bid_size': data.bid_size = bid && formatUnits(bid[1], sd); break;
      case 'ask_size': data.ask_size = ask && formatUnits(ask[1], sd); break;
      case 'spread': data.spread = bid && ask ? formatUnits(ask[0] - bid[0], d) : null; break;
      case 'mid_price': data.mid_price = bid && ask ? formatUnits((bid[0] + ask[0]) * 5, d + 1) : null; break;
      case 'vwap': {
        const n = pairOfBig(notional);
        const v = pairOfBig(volume);
        data.vwap = price(vwapUnits(n.hi, n.rest, v.hi, v.rest));
        break;
      }
      case 'trade_count': data.trade_count = count; break;
      case 'last_size': data.last_size = null; break;
      case 'high_24h': data.high_24h = price(high); break;
      case 'low_24h': data.low_24h = price(low); break;
      case 'open_24h': data.open_24h = price(open); break;
      case 'change_24h': data.change_24h = changePercent(last, open); break;
      case 'quality_score': data.quality_score = null; break;
    }
  }
  return {
    symbol: instrument.symbol,
    sequence: book?.sequence ?? 0,
    timestamp: formatTimestampMicros(asOf),
    currency: instrument.quote,
    data,
  };
}
