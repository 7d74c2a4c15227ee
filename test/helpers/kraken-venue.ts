/**
 * A local Kraken: a WebSocket server on a loopback port that speaks Kraken's Spot WebSocket v2 as
 * documented (instrument, book with snapshot/update and CRC32 checksum, trade, ticker; subscribe and
 * unsubscribe acknowledgements), written from Kraken's documentation, independent of src/.
 * It keeps each pair's full book (decimal strings) and shows clients the top `depth` levels:
 * an update carries the levels whose visible quantity changed, a level entering the top `depth`
 * after a removal, and no removal for a level an insert pushed out of scope (clients truncate),
 * exactly as Kraken describes. Prices and quantities go on the wire as JSON numbers, as Kraken
 * sends them; the checksum formats them at the pair's precision.
 */
import { WebSocketServer, WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { bookChecksum } from '../../src/client';

export interface KrakenPair {
  symbol: string;
  base: string;
  quote: string;
  pricePrecision: number;
  qtyPrecision: number;
  priceIncrement: string;
  qtyIncrement: string;
  qtyMin: string;
}

/**
 * A pair's ticker as Kraken keeps it: best bid/ask with sizes, last trade, and the 24-hour volume,
 * vwap, low and high (v2 sends only those); v1 also sends today's figures, first in each pair.
 */
export interface KrakenTicker {
  bid: string; bid_qty: string; ask: string; ask_qty: string; last: string; last_qty: string;
  volume: string; vwap: string; low: string; high: string; change: string; change_pct: string;
  today: { volume: string; vwap: string; low: string; high: string; open: string; trades: number };
}

type Side = Map<string, string>;
type Level = [string, string];

function fmt(value: string, decimals: number): string {
  const [whole, frac = ''] = value.split('.');
  return decimals === 0 ? whole : `${whole}.${frac.padEnd(decimals, '0')}`;
}

export class KrakenVenue {
  readonly server: WebSocketServer;
  readonly books = new Map<string, { bids: Side; asks: Side }>();
  /** Book subscriptions (snapshots sent) per symbol, and unsubscriptions. */
  readonly bookSubscribes = new Map<string, number>();
  unsubscribes = 0;
  connections = 0;
  /** Every frame a client sent. */
  readonly received: any[] = [];
  private clients = new Set<WebSocket>();
  private depths = new Map<WebSocket, number>();
  /** Each pair's current ticker (sent as a snapshot on subscribing). */
  readonly tickers = new Map<string, KrakenTicker>();
  /** Kraken numbers trades per pair. */
  private readonly tradeIds = new Map<string, number>();

  /** v1 clients (options.v1: every path but /v2) and their channel ids per "name pair". */
  private readonly v1 = new Map<WebSocket, Map<string, number>>();
  private nextChannelId = 300;

  private constructor(readonly pairs: KrakenPair[], server: WebSocketServer, options: { v1?: boolean }) {
    this.server = server;
    for (const p of pairs) this.books.set(p.symbol, { bids: new Map(), asks: new Map() });
    server.on('connection', (ws, req) => {
      this.connections++;
      this.clients.add(ws);
      ws.on('close', () => {
        this.clients.delete(ws);
        this.v1.delete(ws);
      });
      if (options.v1 && req.url !== '/v2') {
        // Kraken's WebSocket v1: arrays [channelID, payload, channelName, pair], events as objects.
        this.v1.set(ws, new Map());
        ws.send(JSON.stringify({ connectionID: 1234, event: 'systemStatus', status: 'online', version: '1.9.0' }));
        ws.on('message', (data) => this.onMessageV1(ws, JSON.parse(data.toString())));
        return;
      }
      ws.send(JSON.stringify({ channel: 'status', type: 'update', data: [{ api_version: 'v2', system: 'online', version: '2.0.0' }] }));
      ws.on('message', (data) => this.onMessage(ws, JSON.parse(data.toString())));
    });
  }

  /** `v1`: connections speak Kraken's v1 protocol, except on the path /v2 (the instrument channel for reference data). */
  static async start(pairs: KrakenPair[], options: { v1?: boolean } = {}): Promise<KrakenVenue> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    return new KrakenVenue(pairs, server, options);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  pair(symbol: string): KrakenPair {
    return this.pairs.find((p) => p.symbol === symbol)!;
  }

  /** The top `depth` levels, best first. */
  top(symbol: string, side: 'bids' | 'asks', depth: number): Level[] {
    const levels = [...this.books.get(symbol)![side].entries()];
    levels.sort((a, b) => (side === 'bids' ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])));
    return levels.slice(0, depth);
  }

  checksum(symbol: string): number {
    const p = this.pair(symbol);
    const f = (levels: Level[]): Level[] => levels.map(([price, qty]) => [fmt(price, p.pricePrecision), fmt(qty, p.qtyPrecision)]);
    return bookChecksum(f(this.top(symbol, 'bids', 10)), f(this.top(symbol, 'asks', 10)));
  }

  /** Sets levels (qty "0" removes) and sends the update every subscribed client would get. */
  update(symbol: string, changes: { bids?: Level[]; asks?: Level[] }, options: { send?: boolean; checksum?: number } = {}): string | null {
    const depth = this.depth();
    const before = { bids: new Map(this.top(symbol, 'bids', depth)), asks: new Map(this.top(symbol, 'asks', depth)) };
    const book = this.books.get(symbol)!;
    for (const side of ['bids', 'asks'] as const) {
      for (const [price, qty] of changes[side] ?? []) {
        if (Number(qty) === 0) book[side].delete(price);
        else book[side].set(price, qty);
      }
    }
    const message: any = { channel: 'book', type: 'update', data: [{ symbol, bids: [], asks: [], checksum: options.checksum ?? this.checksum(symbol), timestamp: new Date().toISOString() }] };
    for (const side of ['bids', 'asks'] as const) {
      const after = new Map(this.top(symbol, side, depth));
      const touched = new Set((changes[side] ?? []).map(([p]) => p));
      for (const price of touched) {
        // A removal is sent for a level that was visible; a change only for a level visible now.
        if (!book[side].has(price)) {
          if (before[side].has(price)) message.data[0][side].push([price, '0']);
        } else if (after.has(price)) message.data[0][side].push([price, book[side].get(price)!]);
      }
      // Levels that came into scope because visible ones went away.
      for (const [price, qty] of after) if (!before[side].has(price) && !touched.has(price)) message.data[0][side].push([price, qty]);
    }
    const text = this.encode(message);
    if (options.send !== false) {
      this.broadcast(text);
      this.sendV1(symbol, 'book', (chan) => {
        const p = this.pair(symbol);
        const d = message.data[0];
        const v1 = (levels: Level[]) => levels.map(([price, qty]) => [fmt(price, p.pricePrecision), fmt(qty, p.qtyPrecision), '1534614248.456738']);
        const parts: object[] = [];
        if (d.asks.length > 0) parts.push({ a: v1(d.asks) });
        if (d.bids.length > 0) parts.push({ b: v1(d.bids) });
        if (parts.length === 0) parts.push({ a: [] });
        Object.assign(parts[parts.length - 1], { c: String(d.checksum) });
        return [chan, ...parts, `book-${this.depth()}`, symbol];
      });
    }
    return text;
  }

  /** A trade print; `side` is the taker's. */
  trade(symbol: string, side: 'buy' | 'sell', price: string, qty: string): void {
    const tradeId = (this.tradeIds.get(symbol) ?? 1000) + 1;
    this.tradeIds.set(symbol, tradeId);
    this.broadcast(this.encode({ channel: 'trade', type: 'update', data: [{ symbol, side, price, qty, ord_type: 'market', trade_id: tradeId, timestamp: new Date().toISOString() }] }));
    this.sendV1(symbol, 'trade', (chan) => [chan, [[price, qty, '1534614057.321597', side === 'buy' ? 'b' : 's', 'm', '']], 'trade', symbol]);
  }

  /** A new ticker for the pair, sent to every ticker subscriber (v2 and v1), as a trade makes Kraken do. */
  ticker(symbol: string, ticker: KrakenTicker): void {
    this.tickers.set(symbol, ticker);
    this.broadcast(this.tickerV2(symbol, 'update'));
    this.sendV1(symbol, 'ticker', (chan) => this.tickerV1(chan, symbol));
  }

  /** v2: one object per pair, numbers as bare JSON numbers. */
  private tickerV2(symbol: string, type: 'snapshot' | 'update'): string {
    const k = this.tickers.get(symbol)!;
    const n = (['bid', 'bid_qty', 'ask', 'ask_qty', 'last', 'volume', 'vwap', 'low', 'high', 'change', 'change_pct'] as const).map((f) => `"${f}":${k[f]}`);
    return `{"channel":"ticker","type":"${type}","data":[{"symbol":"${symbol}",${n.join(',')}}]}`;
  }

  /** v1: a [whole lot volume, lot volume] after bid and ask prices, [today, last 24 hours] pairs, every number a string but trade counts. */
  private tickerV1(chan: number, symbol: string): unknown[] {
    const k = this.tickers.get(symbol)!;
    const whole = (qty: string) => String(Math.ceil(Number(qty)));
    return [chan, {
      a: [k.ask, whole(k.ask_qty), k.ask_qty], b: [k.bid, whole(k.bid_qty), k.bid_qty], c: [k.last, k.last_qty],
      v: [k.today.volume, k.volume], p: [k.today.vwap, k.vwap], t: [k.today.trades, k.today.trades + 1000],
      l: [k.today.low, k.low], h: [k.today.high, k.high], o: [k.today.open, k.today.open],
    }, 'ticker', symbol];
  }

  /** To v2 clients. */
  broadcast(text: string): void {
    for (const ws of this.clients) if (!this.v1.has(ws)) ws.send(text);
  }

  private sendV1(symbol: string, name: string, message: (channelId: number) => unknown[]): void {
    for (const [ws, channels] of this.v1) {
      const chan = channels.get(`${name} ${symbol}`);
      if (chan !== undefined) ws.send(JSON.stringify(message(chan)));
    }
  }

  private onMessageV1(ws: WebSocket, m: any): void {
    this.received.push(m);
    const channels = this.v1.get(ws)!;
    const name = m.subscription?.name;
    for (const pair of m.pair ?? []) {
      const status = (status: string, extra: object = {}) => ws.send(JSON.stringify({ event: 'subscriptionStatus', pair, status, subscription: m.subscription, ...extra }));
      if (!this.books.has(pair)) {
        status('error', { errorMessage: 'Currency pair not supported' });
        continue;
      }
      if (m.event === 'unsubscribe') {
        this.unsubscribes++;
        channels.delete(`${name} ${pair}`);
        status('unsubscribed');
        continue;
      }
      const chan = this.nextChannelId++;
      channels.set(`${name} ${pair}`, chan);
      if (name !== 'book') {
        status('subscribed', { channelID: chan, channelName: name });
        // The ticker channel starts with the pair's current ticker.
        if (name === 'ticker' && this.tickers.has(pair)) ws.send(JSON.stringify(this.tickerV1(chan, pair)));
        continue;
      }
      const depth = m.subscription.depth ?? 10;
      this.depths.set(ws, depth);
      status('subscribed', { channelID: chan, channelName: `book-${depth}` });
      this.bookSubscribes.set(pair, (this.bookSubscribes.get(pair) ?? 0) + 1);
      const p = this.pair(pair);
      const v1 = (levels: Level[]) => levels.map(([price, qty]) => [fmt(price, p.pricePrecision), fmt(qty, p.qtyPrecision), '1534614248.123678']);
      ws.send(JSON.stringify([chan, { as: v1(this.top(pair, 'asks', depth)), bs: v1(this.top(pair, 'bids', depth)) }, `book-${depth}`, pair]));
    }
  }

  /** Drops every client connection (a venue outage). */
  dropAll(): void {
    for (const ws of this.clients) ws.terminate();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private depth(): number {
    return [...this.depths.values()][0] ?? 10;
  }

  /**
   * JSON with price and qty as bare numbers, as Kraken sends them: the decimal text written as it
   * is held (a JSON number may carry trailing zeros and any number of digits).
   */
  private encode(message: any): string {
    const levels = (levels: Level[]) => `[${levels.map(([p, q]) => `{"price":${p},"qty":${q}}`).join(',')}]`;
    if (message.channel === 'book') {
      const d = message.data[0];
      const ts = d.timestamp === undefined ? '' : `,"timestamp":"${d.timestamp}"`;
      return `{"channel":"book","type":"${message.type}","data":[{"symbol":"${d.symbol}","bids":${levels(d.bids)},"asks":${levels(d.asks)},"checksum":${d.checksum}${ts}}]}`;
    }
    if (message.channel === 'trade') {
      const d = message.data[0];
      return `{"channel":"trade","type":"update","data":[{"symbol":"${d.symbol}","side":"${d.side}","price":${d.price},"qty":${d.qty},"ord_type":"${d.ord_type}","trade_id":${d.trade_id},"timestamp":"${d.timestamp}"}]}`;
    }
    return JSON.stringify(message);
  }

  private onMessage(ws: WebSocket, m: any): void {
    this.received.push(m);
    const params = m.params ?? {};
    const ack = (result: object) => ws.send(JSON.stringify({ method: m.method, req_id: m.req_id, result, success: true, time_in: new Date().toISOString(), time_out: new Date().toISOString() }));
    if (m.method === 'subscribe' && params.channel === 'instrument') {
      ack({ channel: 'instrument', snapshot: true });
      const pairs = this.pairs.map((p) => `{"symbol":"${p.symbol}","base":"${p.base}","quote":"${p.quote}","status":"online","qty_precision":${p.qtyPrecision},"qty_increment":${p.qtyIncrement},"price_precision":${p.pricePrecision},"cost_precision":5,"marginable":false,"has_index":true,"cost_min":0.5,"tick_size":${p.priceIncrement},"price_increment":${p.priceIncrement},"qty_min":${p.qtyMin}}`);
      ws.send(`{"channel":"instrument","type":"snapshot","data":{"assets":[],"pairs":[${pairs.join(',')}]}}`);
    } else if (m.method === 'subscribe' && params.channel === 'book') {
      this.depths.set(ws, params.depth ?? 10);
      for (const symbol of params.symbol) {
        if (!this.books.has(symbol)) {
          ws.send(JSON.stringify({ error: `Currency pair not supported ${symbol}`, method: 'subscribe', req_id: m.req_id, success: false, symbol }));
          continue;
        }
        ack({ channel: 'book', depth: params.depth, snapshot: true, symbol });
        this.bookSubscribes.set(symbol, (this.bookSubscribes.get(symbol) ?? 0) + 1);
        const depth = params.depth ?? 10;
        ws.send(this.encode({ channel: 'book', type: 'snapshot', data: [{ symbol, bids: this.top(symbol, 'bids', depth), asks: this.top(symbol, 'asks', depth), checksum: this.checksum(symbol) }] }));
      }
    } else if (m.method === 'subscribe' && params.channel === 'trade') {
      for (const symbol of params.symbol) ack({ channel: 'trade', snapshot: false, symbol });
    } else if (m.method === 'subscribe' && params.channel === 'ticker') {
      for (const symbol of params.symbol) {
        ack({ channel: 'ticker', snapshot: params.snapshot ?? true, symbol });
        if (params.snapshot !== false && this.tickers.has(symbol)) ws.send(this.tickerV2(symbol, 'snapshot'));
      }
    } else if (m.method === 'unsubscribe') {
      this.unsubscribes++;
      for (const symbol of params.symbol) ack({ channel: params.channel, depth: params.depth, symbol });
    }
  }
}
