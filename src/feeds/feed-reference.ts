import WebSocket from 'ws';
import { type Config, type FeedSymbolSpec, type FeedVenue, feedInstrument } from '../config';
import { BookcastError } from '../errors';
import { formatUnits } from '../util/decimal';
import { readCaptureHeader } from './capture-file';
import { feedEndpoints } from './venues';
import { quoteNumbers, toUnits } from './wire-numbers';

/** How long the venue's reference data may take at start before the start fails. */
const REFERENCE_TIMEOUT_MS = 15_000;

/** What a venue says about one of its symbols. */
interface Reference {
  base: string;
  quote: string;
  tickSize: string;
  lotSize: string;
  minOrderSize: string;
}

function failed(venue: string, why: string): BookcastError {
  return new BookcastError('FEED_REFERENCE_FAILED', `${venue} reference data: ${why}`);
}

/** "0.01000000" → "0.01", "1.00000000" → "1": Binance pads every decimal to 8 places. */
function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/**
 * Kraken's reference is the v2 `instrument` channel on the same WebSocket as the books: each pair's
 * price and qty increments and precisions. Tick and lot are written at exactly Kraken's precision,
 * because its book checksum formats prices and quantities at that precision (kraken-checksum.ts).
 */
function krakenReference(url: string, wanted: readonly string[]): Promise<Map<string, Reference>> {
  const quote = quoteNumbers('price_increment|qty_increment|qty_min');
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: REFERENCE_TIMEOUT_MS });
    const timer = setTimeout(() => {
      socket.terminate();
      reject(failed('kraken', `no instrument snapshot from ${url} within ${REFERENCE_TIMEOUT_MS} ms`));
    }, REFERENCE_TIMEOUT_MS);
    const finish = (error: Error | null, result?: Map<string, Reference>) => {
      clearTimeout(timer);
      socket.terminate();
      if (error !== null) reject(error);
      else resolve(result!);
    };
    socket.on('error', (error) => finish(failed('kraken', `${url}: ${error.message}`)));
    socket.on('open', () => socket.send(JSON.stringify({ method: 'subscribe', params: { channel: 'instrument', snapshot: true } })));
    socket.on('message', (data) => {
      let message: { channel?: string; type?: string; data?: { pairs?: Record<string, unknown>[] } };
      try {
        message = JSON.parse(quote(data.toString()));
      } catch {
        return;
      }
      if (message?.channel !== 'instrument' || message.type !== 'snapshot' || !Array.isArray(message.data?.pairs)) return;
      const found = new Map<string, Reference>();
      for (const pair of message.data.pairs) {
        const symbol = pair.symbol as string;
        if (!wanted.includes(symbol)) continue;
        const pricePrecision = pair.price_precision as number;
        const qtyPrecision = pair.qty_precision as number;
        const tick = toUnits(pair.price_increment, pricePrecision);
        const lot = toUnits(pair.qty_increment, qtyPrecision);
        const min = toUnits(pair.qty_min ?? pair.qty_increment, qtyPrecision);
        if (!(tick > 0) || !(lot > 0) || !(min > 0)) return finish(failed('kraken', `unreadable increments for ${symbol}`));
        found.set(symbol, {
          base: String(pair.base),
          quote: String(pair.quote),
          tickSize: formatUnits(tick, pricePrecision),
          lotSize: formatUnits(lot, qtyPrecision),
          minOrderSize: formatUnits(min, qtyPrecision),
        });
      }
      finish(null, found);
    });
  });
}

/** Binance's reference is /api/v3/exchangeInfo: PRICE_FILTER's tickSize, LOT_SIZE's stepSize and minQty. */
async function binanceReference(restUrl: string, wanted: readonly string[]): Promise<Map<string, Reference>> {
  const url = `${restUrl.replace(/\/+$/, '')}/api/v3/exchangeInfo?symbols=${encodeURIComponent(JSON.stringify(wanted))}`;
  let body: { symbols?: { symbol: string; baseAsset: string; quoteAsset: string; filters: Record<string, string>[] }[] };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(REFERENCE_TIMEOUT_MS) });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    body = (await res.json()) as typeof body;
  } catch (error) {
    throw failed('binance', `${url}: ${(error as Error).message}`);
  }
  const found = new Map<string, Reference>();
  for (const s of body.symbols ?? []) {
    const price = s.filters?.find((f) => f.filterType === 'PRICE_FILTER');
    const lot = s.filters?.find((f) => f.filterType === 'LOT_SIZE');
    if (price === undefined || lot === undefined) throw failed('binance', `${s.symbol} has no PRICE_FILTER or LOT_SIZE`);
    found.set(s.symbol, {
      base: s.baseAsset,
      quote: s.quoteAsset,
      tickSize: trimZeros(price.tickSize),
      lotSize: trimZeros(lot.stepSize),
      minOrderSize: trimZeros(lot.minQty),
    });
  }
  return found;
}

/** Coinbase's reference is the public product endpoint, one product at a time: quote_increment, base_increment, base_min_size. */
async function coinbaseReference(restUrl: string, wanted: readonly string[]): Promise<Map<string, Reference>> {
  const found = new Map<string, Reference>();
  for (const product of wanted) {
    const url = `${restUrl.replace(/\/+$/, '')}/api/v3/brokerage/market/products/${encodeURIComponent(product)}`;
    let body: { product_id?: string; base_currency_id?: string; quote_currency_id?: string; quote_increment?: string; base_increment?: string; base_min_size?: string };
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(REFERENCE_TIMEOUT_MS) });
      if (res.status === 404) continue;
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      body = (await res.json()) as typeof body;
    } catch (error) {
      throw failed('coinbase', `${url}: ${(error as Error).message}`);
    }
    if (!body.quote_increment || !body.base_increment) throw failed('coinbase', `${product} has no quote_increment or base_increment`);
    found.set(product, {
      base: String(body.base_currency_id),
      quote: String(body.quote_currency_id),
      tickSize: trimZeros(body.quote_increment),
      lotSize: trimZeros(body.base_increment),
      minOrderSize: trimZeros(body.base_min_size || body.base_increment),
    });
  }
  return found;
}

/**
 * Bitfinex publishes no tick or lot size (prices have five significant digits, amounts eight
 * decimals), so they must be given after `@`; only the bookcast name comes from the symbol itself:
 * tBTCUSD is BTC/USD, tTESTBTC:TESTUSD is TESTBTC/TESTUSD.
 */
async function bitfinexReference(wanted: readonly string[]): Promise<Map<string, Reference>> {
  const found = new Map<string, Reference>();
  for (const symbol of wanted) {
    const match = /^t([A-Z0-9]{3})([A-Z0-9]{3})$/.exec(symbol) ?? /^t([A-Z0-9]+):([A-Z0-9]+)$/.exec(symbol);
    if (match === null) throw failed('bitfinex', `${symbol} is not a Bitfinex trading pair (tBTCUSD, tTESTBTC:TESTUSD)`);
    found.set(symbol, { base: match[1], quote: match[2], tickSize: '', lotSize: '', minOrderSize: '' });
  }
  return found;
}

function fetchReference(venue: FeedVenue, url: string, restUrl: string, wanted: readonly string[]): Promise<Map<string, Reference>> {
  if (venue === 'kraken') return krakenReference(url, wanted);
  if (venue === 'bitfinex') return bitfinexReference(wanted);
  // v1 has no instrument channel; v2's (same pairs, same precisions) is on Kraken's v2 endpoint.
  if (venue === 'kraken-v1') return krakenReference(url.replace(/\/*$/, '/v2'), wanted);
  return venue === 'binance' ? binanceReference(restUrl, wanted) : coinbaseReference(restUrl, wanted);
}

/** Fills what --feed-symbols left out (tick, lot, minimum size, the bookcast name) from the venue. */
export async function completeFeedSymbols(venue: FeedVenue, url: string, restUrl: string, specs: readonly FeedSymbolSpec[]): Promise<FeedSymbolSpec[]> {
  const missing = specs.filter((s) => s.tickSize === '' || s.symbol === '');
  if (missing.length === 0) return [...specs];
  const endpoints = feedEndpoints(venue, url, restUrl);
  const reference = await fetchReference(venue, endpoints.url, endpoints.restUrl, missing.map((s) => s.venueSymbol));
  return specs.map((spec) => {
    if (spec.tickSize !== '' && spec.symbol !== '') return spec;
    const ref = reference.get(spec.venueSymbol);
    if (ref === undefined) throw failed(venue, `the venue does not list ${spec.venueSymbol}`);
    if (spec.tickSize === '' && ref.tickSize === '') throw failed(venue, `${spec.venueSymbol}: Bitfinex publishes no tick or lot size; give them as ${spec.venueSymbol}@TICK/LOT`);
    return {
      venueSymbol: spec.venueSymbol,
      symbol: spec.symbol !== '' ? spec.symbol : `${ref.base}/${ref.quote}`.toUpperCase(),
      tickSize: spec.tickSize !== '' ? spec.tickSize : ref.tickSize,
      lotSize: spec.lotSize !== '' ? spec.lotSize : ref.lotSize,
      minOrderSize: spec.minOrderSize !== '' ? spec.minOrderSize : ref.minOrderSize,
    };
  });
}

/**
 * The configuration with a feed's or a capture's instruments in place: a feed's symbols completed
 * from the venue's reference data (at start, once), a capture's read from its header. Other
 * sources pass through unchanged.
 */
export async function resolveFeedSource(config: Config): Promise<Config> {
  const source = config.source;
  if (source.kind === 'capture') {
    const header = readCaptureHeader(source.path);
    return { ...config, instruments: header.symbols.map(feedInstrument) };
  }
  if (source.kind !== 'feed') return config;
  const symbols = await completeFeedSymbols(source.venue, source.url, source.restUrl, source.symbols);
  return { ...config, source: { ...source, symbols }, instruments: symbols.map(feedInstrument) };
}
