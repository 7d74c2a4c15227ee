import * as net from 'node:net';

/** Buffer as the Uint8Array it is (this TypeScript and @types/node disagree about Buffer's buffer type). */
const raw = (b: Buffer) => b as unknown as Uint8Array;

/** What the proxy does with one server-to-client text frame: pass it, drop it, or send this payload (same length) instead. */
export type FrameVerdict = 'pass' | 'drop' | Buffer;

/**
 * A TCP proxy between a WebSocket client and a real bookcast server that can lose or alter the
 * server's text frames, and cut every connection: the faults a client must survive (a lost
 * message, a corrupted one, a dropped connection), made on a real socket. Client bytes pass as
 * they are; the server's bytes pass once the HTTP upgrade answer is through, frame by frame
 * (bookcast sends unfragmented, uncompressed frames).
 */
export class FrameProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly targetPort: number, private readonly onText: (payload: Buffer) => FrameVerdict) {
    this.server = net.createServer((client) => this.accept(client));
  }

  start(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.port = (this.server.address() as net.AddressInfo).port;
      resolve();
    }));
  }

  /** Cuts every open connection at once (the client sees 1006). */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.cutAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    let pending = Buffer.alloc(0);
    let upgraded = false;
    let plainHttp = false;
    upstream.on('data', (chunk: Buffer) => {
      // Plain HTTP (a REST request through the proxy) passes untouched.
      if (plainHttp) return void client.write(raw(chunk));
      pending = Buffer.concat([raw(pending), raw(chunk)]);
      if (!upgraded) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!pending.subarray(0, 13).toString().startsWith('HTTP/1.1 101')) {
          plainHttp = true;
          client.write(raw(pending));
          return;
        }
        client.write(raw(pending.subarray(0, end + 4)));
        pending = pending.subarray(end + 4);
        upgraded = true;
      }
      for (;;) {
        if (pending.length < 2) return;
        const opcode = pending[0] & 0x0f;
        let length = pending[1] & 0x7f;
        let header = 2;
        if (length === 126) {
          if (pending.length < 4) return;
          length = pending.readUInt16BE(2);
          header = 4;
        } else if (length === 127) {
          if (pending.length < 10) return;
          length = Number(pending.readBigUInt64BE(2));
          header = 10;
        }
        if (pending.length < header + length) return;
        const frame = pending.subarray(0, header + length);
        pending = pending.subarray(header + length);
        const verdict = opcode === 1 ? this.onText(frame.subarray(header)) : 'pass';
        if (verdict === 'drop') continue;
        if (verdict !== 'pass') raw(frame).set(raw(verdict), header);
        client.write(raw(Buffer.from(raw(frame))));
      }
    });
  }
}
