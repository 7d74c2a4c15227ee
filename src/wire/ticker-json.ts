import { SIDE_NAMES } from '../model/book-types';
import { formatUnitPair, formatUnits } from '../util/decimal';
import { changePercent } from '../util/market-math';

/** A price or size as a JSON string, or null for 0 (the ticker's "none": an empty side, no trade yet). */
function optionalUnits(units: number, decimals: number): string {
  return units === 0 ? 'null' : '"' + formatUnits(units, decimals) + '"';
}

/**
 * The ticker's fields as JSON members, `"bid":…,"change_24h":…`, in the one order and spelling
 * both the feed's ticker message and REST's GET …/ticker use. `lastSide` is the last trade's
 * aggressor (BID/ASK, -1 none), or NO_LAST_SIDE to leave the member out (the feed's message has
 * none). Units are the instrument's integers; decimals come from the instrument.
 */
export const NO_LAST_SIDE = -2;

export function tickerMembers(
  bid: number,
  bidSize: number,
  ask: number,
  askSize: number,
  last: number,
  lastSize: number,
  lastSide: number,
  volume24h: number,
  volume24hRest: number,
  high24h: number,
  low24h: number,
  open24h: number,
  priceDecimals: number,
  sizeDecimals: number,
): string {
  const change = changePercent(last, open24h);
  return (
    '"bid":' +
    optionalUnits(bid, priceDecimals) +
    ',"bid_size":' +
    optionalUnits(bidSize, sizeDecimals) +
    ',"ask":' +
    optionalUnits(ask, priceDecimals) +
    ',"ask_size":' +
    optionalUnits(askSize, sizeDecimals) +
    ',"last":' +
    optionalUnits(last, priceDecimals) +
    ',"last_size":' +
    optionalUnits(lastSize, sizeDecimals) +
    (lastSide === NO_LAST_SIDE ? '' : ',"last_side":' + (lastSide < 0 ? 'null' : '"' + SIDE_NAMES[lastSide] + '"')) +
    ',"volume_24h":"' +
    formatUnitPair(volume24h, volume24hRest, sizeDecimals) +
    '","high_24h":' +
    optionalUnits(high24h, priceDecimals) +
    ',"low_24h":' +
    optionalUnits(low24h, priceDecimals) +
    ',"change_24h":' +
    (change === null ? 'null' : '"' + change + '"')
  );
}
