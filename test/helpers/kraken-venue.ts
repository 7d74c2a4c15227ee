/**
 * A local Kraken: a WebSocket server on a loopback port that speaks Kraken's Spot WebSocket v2 as
 * documented (instrument, book with snapshot/update and CRC32 checksum, trade; subscribe and
 * unsubscribe acknowledgements), written from Kraken's documentation, independent of src/.
 * It keeps each pair's full book (decimal strings) and shows clients the top `depth` levels:
 * an update carries the levels whose visible quantity changed, a level entering the top `depth`
 * after a removal, and no removal for a level an insert pushed out of scope (clients truncate),
 * exactly as Kraken describes. Prices and quantities go on the wire as JSON numbers, as Kraken
 * sends them; the checksum formats them at the pair's precision.
 */
import { WebSocketServer, WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { krakenChecksum } from './book-client';

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
  private tradeId = 1000;

  private constructor(readonly pairs: KrakenPair[], server: WebSocketServer) {
    this.server = server;
    for (const p of pairs) this.books.set(p.symbol, { bids: new Map(), asks: new Map() });
    server.on('connection', (ws) => {
      this.connections++;
      this.clients.add(ws);
      ws.on('close', () => this.clients.delete(ws));
      ws.send(JSON.stringify({ channel: 'status', type: 'update', data: [{ api_version: 'v2', system: 'online', version: '2.0.0' }] }));
      ws.on('message', (data) => this.onMessage(ws, JSON.parse(data.toString())));
    });
  }

  static async start(pairs: KrakenPair[]): Promise<KrakenVenue> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    return new KrakenVenue(pairs, server);
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
    return krakenChecksum(f(this.top(symbol, 'bids', 10)), f(this.top(symbol, 'asks', 10)));
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
    if (options.send !== false) this.broadcast(text);
    return text;
  }

  /** A trade print; `side` is the taker's. */
  trade(symbol: string, side: 'buy' | 'sell', price: string, qty: string): void {
    this.broadcast(this.encode({ channel: 'trade', type: 'update', data: [{ symbol, side, price, qty, ord_type: 'market', trade_id: ++this.tradeId, timestamp: new Date().toISOString() }] }));
  }

  broadcast(text: string): void {
    for (const ws of this.clients) ws.send(text);
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
    } else if (m.method === 'unsubscribe') {
      this.unsubscribes++;
      for (const symbol of params.symbol) ack({ channel: params.channel, depth: params.depth, symbol });
    }
  }
}
