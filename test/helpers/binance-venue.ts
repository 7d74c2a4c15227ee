/**
 * A local Binance Spot: one loopback HTTP server that answers /api/v3/depth and
 * /api/v3/exchangeInfo and upgrades /stream?streams=... to a combined stream of
 * `<symbol>@depth@100ms` diffs and `<symbol>@trade` events, as Binance documents them, written
 * independently of src/. Each symbol's book is decimal strings with an update id that every change
 * advances; REST snapshots can be held back (`holdSnapshots`) to let diffs pile up first, as
 * on the real venue, where the snapshot may come seconds after the stream starts.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

type Level = [string, string];

export interface BinanceSymbol {
  symbol: string;
  base: string;
  quote: string;
  tickSize: string;
  stepSize: string;
  minQty: string;
}

export class BinanceVenue {
  readonly books = new Map<string, { bids: Map<string, string>; asks: Map<string, string>; updateId: number }>();
  readonly snapshotRequests = new Map<string, number>();
  /** Streams each connection asked for in its URL. */
  readonly streams: string[][] = [];
  holdSnapshots = false;
  private held: (() => void)[] = [];
  private readonly clients = new Set<WebSocket>();
  private readonly tradeIds = new Map<string, number>();

  private constructor(
    readonly symbols: BinanceSymbol[],
    private readonly http: Server,
    wss: WebSocketServer,
  ) {
    for (const s of symbols) this.books.set(s.symbol, { bids: new Map(), asks: new Map(), updateId: 100 });
    http.on('request', (req, res) => this.rest(req, res));
    http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname !== '/stream') {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        this.streams.push((url.searchParams.get('streams') ?? '').split('/'));
        this.clients.add(ws);
        ws.on('close', () => this.clients.delete(ws));
      });
    });
  }

  static async start(symbols: BinanceSymbol[]): Promise<BinanceVenue> {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return new BinanceVenue(symbols, http, new WebSocketServer({ noServer: true }));
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  get restUrl(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  top(symbol: string, side: 'bids' | 'asks'): Level[] {
    const levels = [...this.books.get(symbol)![side].entries()];
    levels.sort((a, b) => (side === 'bids' ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])));
    return levels;
  }

  /**
   * Applies `changes` as `ids` update ids (Binance may fold several into one event: U..u) and
   * returns the diff frame; sent unless `send` is false (a lost frame).
   */
  update(symbol: string, changes: { bids?: Level[]; asks?: Level[] }, options: { send?: boolean; ids?: number } = {}): string {
    const book = this.books.get(symbol)!;
    const first = book.updateId + 1;
    book.updateId += options.ids ?? 1;
    for (const side of ['bids', 'asks'] as const) {
      for (const [price, qty] of changes[side] ?? []) {
        if (Number(qty) === 0) book[side].delete(price);
        else book[side].set(price, qty);
      }
    }
    const pad = (levels: Level[] = []) => levels.map(([p, q]) => [Number(p).toFixed(8), Number(q).toFixed(8)]);
    const data = { e: 'depthUpdate', E: Date.now(), s: symbol, U: first, u: book.updateId, b: pad(changes.bids), a: pad(changes.asks) };
    const frame = JSON.stringify({ stream: `${symbol.toLowerCase()}@depth@100ms`, data });
    if (options.send !== false) this.broadcast(frame);
    return frame;
  }

  /** A trade; `buyerMaker` true means the seller was the taker. */
  /** A trade; Binance numbers trades per symbol. `skip` trade ids are left out before it (trades lost on the way). */
  trade(symbol: string, price: string, qty: string, buyerMaker: boolean, skip = 0): void {
    const id = (this.tradeIds.get(symbol) ?? 500) + 1 + skip;
    this.tradeIds.set(symbol, id);
    const data = { e: 'trade', E: Date.now(), s: symbol, t: id, p: price, q: qty, T: Date.now(), m: buyerMaker, M: true };
    this.broadcast(JSON.stringify({ stream: `${symbol.toLowerCase()}@trade`, data }));
  }

  broadcast(text: string): void {
    for (const ws of this.clients) ws.send(text);
  }

  releaseSnapshots(): void {
    const held = this.held;
    this.held = [];
    for (const answer of held) answer();
  }

  dropAll(): void {
    for (const ws of this.clients) ws.terminate();
  }

  async close(): Promise<void> {
    this.dropAll();
    this.releaseSnapshots();
    await new Promise((resolve) => this.http.close(resolve));
  }

  private rest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url!, 'http://x');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api/v3/exchangeInfo') {
      const wanted = JSON.parse(url.searchParams.get('symbols') ?? '[]') as string[];
      const known = this.symbols.filter((s) => wanted.includes(s.symbol));
      if (known.length !== wanted.length) return json(400, { code: -1121, msg: 'Invalid symbol.' });
      return json(200, {
        timezone: 'UTC',
        symbols: known.map((s) => ({
          symbol: s.symbol,
          status: 'TRADING',
          baseAsset: s.base,
          quoteAsset: s.quote,
          filters: [
            { filterType: 'PRICE_FILTER', minPrice: '0.01000000', maxPrice: '1000000.00000000', tickSize: s.tickSize },
            { filterType: 'LOT_SIZE', minQty: s.minQty, maxQty: '9000.00000000', stepSize: s.stepSize },
          ],
        })),
      });
    }
    if (url.pathname === '/api/v3/depth') {
      const symbol = url.searchParams.get('symbol')!;
      const book = this.books.get(symbol);
      if (book === undefined) return json(400, { code: -1121, msg: 'Invalid symbol.' });
      this.snapshotRequests.set(symbol, (this.snapshotRequests.get(symbol) ?? 0) + 1);
      // The snapshot is taken when the answer goes out (after any hold), as on the venue.
      const answer = () => {
        const pad = (levels: Level[]) => levels.map(([p, q]) => [Number(p).toFixed(8), Number(q).toFixed(8)]);
        json(200, { lastUpdateId: book.updateId, bids: pad(this.top(symbol, 'bids')), asks: pad(this.top(symbol, 'asks')) });
      };
      if (this.holdSnapshots) this.held.push(answer);
      else answer();
      return;
    }
    json(404, { code: -1, msg: 'not found' });
  }
}
