/**
 * A local Bitfinex: a WebSocket server on a loopback port speaking Bitfinex's public WebSocket v2
 * as documented, independent of src/: the `info` event on connect, `conf` (flags SEQ_ALL 65536:
 * a per-connection sequence number ends every channel message; OB_CHECKSUM 131072: a
 * `[chan, 'cs', crc]` after every book change), raw books (`book`, `prec: R0`: snapshot
 * `[chan, [[id, price, amount], …]]`, updates `[chan, [id, price, amount]]`, price 0 removing the
 * order, amount > 0 a bid) showing each client the best `len` orders per side (an order leaving
 * that window is sent as a removal, one entering it as an update), `trades` (snapshot of recent
 * trades, then `te` and `tu` for each), heartbeats, subscribe/unsubscribe answers and errors.
 * The checksum is CRC32 (signed) of `bid.id:bid.amount:ask.id:ask.amount:…` over the best 25
 * orders of each side, asks' amounts negative, numbers as JSON writes them. Orders at one price
 * are ranked by id (Bitfinex's ids grow with time).
 */
import * as zlib from 'node:zlib';
import { WebSocketServer, WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';

const crc32 = (zlib as unknown as { crc32(data: string): number }).crc32;

export interface RawOrder {
  id: number;
  price: number;
  /** > 0 a bid, < 0 an ask. */
  amount: number;
}

interface Client {
  ws: WebSocket;
  flags: number;
  seq: number;
  /** chanId → what it carries. */
  channels: Map<number, { symbol: string; kind: 'book' | 'trades'; len: number }>;
}

export class BitfinexVenue {
  readonly books = new Map<string, Map<number, RawOrder>>();
  readonly received: any[] = [];
  /** Book snapshots sent per symbol (first subscription and every resubscription). */
  readonly bookSubscribes = new Map<string, number>();
  /** Channel messages other than heartbeats sent per symbol, to the last client that subscribed. */
  readonly sent = new Map<string, number>();
  unsubscribes = 0;
  connections = 0;
  private readonly clients = new Set<Client>();
  private nextChanId = 100;
  private tradeId = 5000;
  private readonly recentTrades = new Map<string, [number, number, number, number][]>();

  private constructor(readonly symbols: string[], readonly server: WebSocketServer) {
    for (const s of symbols) {
      this.books.set(s, new Map());
      this.recentTrades.set(s, []);
    }
    server.on('connection', (ws) => {
      this.connections++;
      const client: Client = { ws, flags: 0, seq: 1, channels: new Map() };
      this.clients.add(client);
      ws.on('close', () => this.clients.delete(client));
      ws.send(JSON.stringify({ event: 'info', version: 2, serverId: 'local-venue', platform: { status: 1 } }));
      ws.on('message', (data) => this.onMessage(client, JSON.parse(data.toString())));
    });
  }

  static async start(symbols: string[]): Promise<BitfinexVenue> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    return new BitfinexVenue(symbols, server);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The best `len` orders of a side, best first (price, then id). */
  top(symbol: string, side: 'bids' | 'asks', len: number): RawOrder[] {
    const orders = [...this.books.get(symbol)!.values()].filter((o) => (side === 'bids' ? o.amount > 0 : o.amount < 0));
    orders.sort((a, b) => (a.price === b.price ? a.id - b.id : side === 'bids' ? b.price - a.price : a.price - b.price));
    return orders.slice(0, len);
  }

  checksum(symbol: string, len: number): number {
    const bids = this.top(symbol, 'bids', Math.min(25, len));
    const asks = this.top(symbol, 'asks', Math.min(25, len));
    const parts: (number | string)[] = [];
    for (let i = 0; i < 25; i++) {
      if (bids[i]) parts.push(bids[i].id, bids[i].amount);
      if (asks[i]) parts.push(asks[i].id, asks[i].amount);
    }
    return crc32(parts.join(':')) | 0;
  }

  /**
   * Sets orders (amount 0 removes) without telling anyone: the state a later snapshot shows.
   */
  set(symbol: string, orders: RawOrder[]): void {
    const book = this.books.get(symbol)!;
    for (const o of orders) {
      if (o.amount === 0) book.delete(o.id);
      else book.set(o.id, { ...o });
    }
  }

  /**
   * Changes one order and sends each subscribed client what its window shows, then the checksum.
   * `fault`: 'checksum' sends a wrong one; 'lose' sends nothing of the change (the checksum still
   * covers it); 'gap' skips a sequence number first; 'malformed' sends an unreadable update.
   */
  change(symbol: string, order: RawOrder, fault?: 'checksum' | 'lose' | 'gap' | 'malformed'): void {
    for (const client of this.clients) {
      for (const channel of client.channels.values()) {
        if (channel.symbol !== symbol || channel.kind !== 'book') continue;
        (channel as any).before = this.window(symbol, channel.len);
      }
    }
    this.set(symbol, [order]);
    for (const client of this.clients) {
      for (const [chanId, channel] of client.channels) {
        if (channel.symbol !== symbol || channel.kind !== 'book') continue;
        const before: Map<number, RawOrder> = (channel as any).before;
        const after = this.window(symbol, channel.len);
        if (fault === 'gap') client.seq++;
        if (fault === 'malformed') this.send(client, chanId, symbol, [[order.id, 'x', order.amount]]);
        else if (fault !== 'lose') {
          for (const [id, o] of before) if (!after.has(id)) this.send(client, chanId, symbol, [[id, 0, o.amount > 0 ? 1 : -1]]);
          for (const [id, o] of after) {
            const was = before.get(id);
            if (was === undefined || was.price !== o.price || was.amount !== o.amount) this.send(client, chanId, symbol, [[id, o.price, o.amount]]);
          }
        }
        if (client.flags & 131072) this.send(client, chanId, symbol, ['cs', fault === 'checksum' ? this.checksum(symbol, channel.len) + 1 : this.checksum(symbol, channel.len)]);
      }
    }
  }

  /** Sends an update as given (a crossing order, say) and applies it. */
  raw(symbol: string, order: RawOrder): void {
    this.set(symbol, [order]);
    for (const client of this.clients) {
      for (const [chanId, channel] of client.channels) if (channel.symbol === symbol && channel.kind === 'book') this.send(client, chanId, symbol, [[order.id, order.price, order.amount]]);
    }
  }

  /** A trade; `amount` > 0 the taker bought. Sent as `te`, then `tu`. */
  trade(symbol: string, price: number, amount: number): number {
    const trade: [number, number, number, number] = [++this.tradeId, Date.now(), amount, price];
    this.recentTrades.get(symbol)!.unshift(trade);
    for (const client of this.clients) {
      for (const [chanId, channel] of client.channels) {
        if (channel.symbol !== symbol || channel.kind !== 'trades') continue;
        this.send(client, chanId, symbol, ['te', trade]);
        this.send(client, chanId, symbol, ['tu', [...trade, 0.1, 'USD']]);
      }
    }
    return trade[0];
  }

  heartbeat(): void {
    for (const client of this.clients) for (const chanId of client.channels.keys()) this.send(client, chanId, '', ['hb']);
  }

  /** Asks every client to reconnect (info 20051). */
  askReconnect(): void {
    for (const client of this.clients) client.ws.send(JSON.stringify({ event: 'info', code: 20051, msg: 'Stopping. Please try to reconnect' }));
  }

  dropAll(): void {
    for (const client of this.clients) client.ws.terminate();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private window(symbol: string, len: number): Map<number, RawOrder> {
    const out = new Map<number, RawOrder>();
    for (const o of [...this.top(symbol, 'bids', len), ...this.top(symbol, 'asks', len)]) out.set(o.id, { ...o });
    return out;
  }

  private send(client: Client, chanId: number, symbol: string, payload: unknown[]): void {
    const message = [chanId, ...payload];
    if (client.flags & 65536) message.push(client.seq++);
    if (symbol !== '' && payload[0] !== 'hb') this.sent.set(symbol, (this.sent.get(symbol) ?? 0) + 1);
    client.ws.send(JSON.stringify(message));
  }

  private onMessage(client: Client, m: any): void {
    this.received.push(m);
    if (m.event === 'conf') {
      client.flags = m.flags;
      client.ws.send(JSON.stringify({ event: 'conf', status: 'OK', flags: m.flags }));
    } else if (m.event === 'subscribe') {
      if (!this.books.has(m.symbol) || (m.channel === 'book' && m.prec !== 'R0')) {
        client.ws.send(JSON.stringify({ event: 'error', msg: 'symbol: invalid', code: 10300, channel: m.channel, symbol: m.symbol }));
        return;
      }
      const chanId = this.nextChanId++;
      const pair = m.symbol.slice(1);
      if (m.channel === 'book') {
        const len = Number(m.len ?? 25);
        client.channels.set(chanId, { symbol: m.symbol, kind: 'book', len });
        this.bookSubscribes.set(m.symbol, (this.bookSubscribes.get(m.symbol) ?? 0) + 1);
        client.ws.send(JSON.stringify({ event: 'subscribed', channel: 'book', chanId, symbol: m.symbol, prec: 'R0', freq: m.freq ?? 'F0', len: String(len), pair }));
        const orders = [...this.top(m.symbol, 'bids', len), ...this.top(m.symbol, 'asks', len)].map((o) => [o.id, o.price, o.amount]);
        this.send(client, chanId, m.symbol, [orders]);
      } else {
        client.channels.set(chanId, { symbol: m.symbol, kind: 'trades', len: 0 });
        client.ws.send(JSON.stringify({ event: 'subscribed', channel: 'trades', chanId, symbol: m.symbol, pair }));
        this.send(client, chanId, m.symbol, [this.recentTrades.get(m.symbol)!.slice(0, 30)]);
      }
    } else if (m.event === 'unsubscribe') {
      this.unsubscribes++;
      client.channels.delete(m.chanId);
      client.ws.send(JSON.stringify({ event: 'unsubscribed', status: 'OK', chanId: m.chanId }));
    }
  }
}
