/**
 * A local Coinbase Advanced Trade: one loopback HTTP server answering the public product endpoint
 * (/api/v3/brokerage/market/products/<id>) and upgrading any other path to the market-data
 * WebSocket: subscribe/unsubscribe to `level2` (l2_data: the whole book as a snapshot, then updates
 * with new_quantity, sides "bid"/"offer"), `market_trades` (side = the maker's) and `heartbeats`.
 * Every message on a connection carries sequence_num, one more than the one before. Written from
 * Coinbase's documentation, independent of src/.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

type Level = [string, string];

export interface CoinbaseProduct {
  id: string;
  base: string;
  quote: string;
  quoteIncrement: string;
  baseIncrement: string;
  baseMinSize: string;
}

interface Client {
  ws: WebSocket;
  sequence: number;
  level2: Set<string>;
  trades: Set<string>;
}

export class CoinbaseVenue {
  readonly books = new Map<string, { bids: Map<string, string>; asks: Map<string, string> }>();
  readonly level2Subscribes = new Map<string, number>();
  private readonly clients = new Set<Client>();
  /** Coinbase numbers trades per product. */
  private readonly tradeIds = new Map<string, number>();

  private constructor(
    readonly products: CoinbaseProduct[],
    private readonly http: Server,
    wss: WebSocketServer,
  ) {
    for (const p of products) this.books.set(p.id, { bids: new Map(), asks: new Map() });
    http.on('request', (req, res) => this.rest(req, res));
    http.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        const client: Client = { ws, sequence: 0, level2: new Set(), trades: new Set() };
        this.clients.add(client);
        ws.on('close', () => this.clients.delete(client));
        ws.on('message', (data) => this.onMessage(client, JSON.parse(data.toString())));
      }),
    );
  }

  static async start(products: CoinbaseProduct[]): Promise<CoinbaseVenue> {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return new CoinbaseVenue(products, http, new WebSocketServer({ noServer: true }));
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  get restUrl(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  top(product: string, side: 'bids' | 'asks'): Level[] {
    const levels = [...this.books.get(product)![side].entries()];
    levels.sort((a, b) => (side === 'bids' ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])));
    return levels;
  }

  /** Applies `changes` and sends the update to subscribers, unless `send` is false; returns its events. */
  update(product: string, changes: { bids?: Level[]; asks?: Level[] }, send = true): object {
    const book = this.books.get(product)!;
    const updates: object[] = [];
    for (const side of ['bids', 'asks'] as const) {
      for (const [price, qty] of changes[side] ?? []) {
        if (Number(qty) === 0) book[side].delete(price);
        else book[side].set(price, qty);
        updates.push({ side: side === 'bids' ? 'bid' : 'offer', event_time: new Date().toISOString(), price_level: price, new_quantity: qty });
      }
    }
    const events = [{ type: 'update', product_id: product, updates }];
    if (send) for (const c of this.clients) if (c.level2.has(product)) this.send(c, 'l2_data', events);
    return events;
  }

  /** `makerSide` is the resting order's side, as Coinbase reports it. */
  trade(product: string, makerSide: 'BUY' | 'SELL', price: string, size: string): void {
    const tradeId = (this.tradeIds.get(product) ?? 9000) + 1;
    this.tradeIds.set(product, tradeId);
    const trades = [{ trade_id: String(tradeId), product_id: product, price, size, side: makerSide, time: new Date().toISOString() }];
    for (const c of this.clients) if (c.trades.has(product)) this.send(c, 'market_trades', [{ type: 'update', trades }]);
  }

  /** Sends `events` on `channel` to every client; `skip` numbers are used up first (lost messages). */
  sendAll(channel: string, events: object[], skip = 0): void {
    for (const c of this.clients) {
      c.sequence += skip;
      this.send(c, channel, events);
    }
  }

  /** Two messages numbered in order and delivered in the other order (a reordering relay). */
  sendSwapped(channel: string, first: object[], second: object[]): void {
    for (const c of this.clients) {
      const a = JSON.stringify({ channel, client_id: '', timestamp: new Date().toISOString(), sequence_num: c.sequence++, events: first });
      const b = JSON.stringify({ channel, client_id: '', timestamp: new Date().toISOString(), sequence_num: c.sequence++, events: second });
      c.ws.send(b);
      c.ws.send(a);
    }
  }

  /** A raw text frame to every client, taking a sequence number (a message the client cannot read). */
  raw(text: string): void {
    for (const c of this.clients) {
      c.sequence++;
      c.ws.send(text);
    }
  }

  dropAll(): void {
    for (const c of this.clients) c.ws.terminate();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise((resolve) => this.http.close(resolve));
  }

  private send(c: Client, channel: string, events: object[]): void {
    c.ws.send(JSON.stringify({ channel, client_id: '', timestamp: new Date().toISOString(), sequence_num: c.sequence++, events }));
  }

  private onMessage(c: Client, m: { type: string; channel: string; product_ids: string[] }): void {
    const set = m.channel === 'level2' ? c.level2 : m.channel === 'market_trades' ? c.trades : null;
    for (const product of m.product_ids ?? []) {
      if (m.type === 'unsubscribe') set?.delete(product);
      else if (m.type === 'subscribe' && set !== null) {
        set.add(product);
        if (m.channel === 'level2') {
          this.level2Subscribes.set(product, (this.level2Subscribes.get(product) ?? 0) + 1);
          const updates = (['bids', 'asks'] as const).flatMap((side) =>
            this.top(product, side).map(([price, qty]) => ({ side: side === 'bids' ? 'bid' : 'offer', event_time: new Date().toISOString(), price_level: price, new_quantity: qty })),
          );
          this.send(c, 'l2_data', [{ type: 'snapshot', product_id: product, updates }]);
        }
      }
    }
    this.send(c, 'subscriptions', [{ subscriptions: { [m.channel]: [...(set ?? [])] } }]);
  }

  private rest(req: IncomingMessage, res: ServerResponse): void {
    const id = decodeURIComponent(new URL(req.url!, 'http://x').pathname.split('/').pop() ?? '');
    const p = this.products.find((x) => x.id === id);
    res.writeHead(p === undefined ? 404 : 200, { 'content-type': 'application/json' });
    if (p === undefined) return void res.end(JSON.stringify({ error: 'NOT_FOUND', message: 'product not found' }));
    res.end(JSON.stringify({ product_id: p.id, price: '0', base_increment: p.baseIncrement, quote_increment: p.quoteIncrement, base_min_size: p.baseMinSize, base_currency_id: p.base, quote_currency_id: p.quote, status: 'online' }));
  }
}
