/**
 * A raw FIX 4.4 peer over a plain socket for tests: frames what it is told (BodyLength and
 * CheckSum computed here, independently of src/fix/), or sends bytes as given, and collects
 * every message it receives as tag/value pairs. Bad-input tests use it where a FIX engine would
 * refuse to send what they need.
 */
import * as net from 'node:net';
import { waitFor } from './test-server';

export type Fields = [number, string | number][];

export interface Received {
  type: string;
  seq: number;
  fields: [number, string][];
  get(tag: number): string | undefined;
  all(tag: number): string[];
  raw: string;
}

export function encodeFix(type: string, fields: Fields): string {
  const body = `35=${type}\x01` + fields.map(([t, v]) => `${t}=${v}\x01`).join('');
  const head = `8=FIX.4.4\x019=${Buffer.byteLength(body, 'latin1')}\x01` + body;
  let sum = 0;
  for (const b of Buffer.from(head, 'latin1')) sum += b;
  return head + `10=${String(sum % 256).padStart(3, '0')}\x01`;
}

export class RawFixClient {
  readonly received: Received[] = [];
  closed = false;
  private pending = '';
  nextSeq = 1;

  private constructor(
    readonly socket: net.Socket,
    readonly sender: string,
    readonly target: string,
  ) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => this.onData(text));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => (this.closed = true));
  }

  static async connect(port: number, sender: string, target = 'BOOKCAST'): Promise<RawFixClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawFixClient(socket, sender, target);
  }

  private onData(text: string): void {
    this.pending += text;
    for (;;) {
      const m = /^8=FIX\.4\.4\x019=(\d+)\x01/.exec(this.pending);
      if (m === null) return;
      const end = m[0].length + Number(m[1]) + 7;
      if (this.pending.length < end) return;
      const raw = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      const fields = raw
        .split('\x01')
        .filter((f) => f !== '')
        .map((f) => {
          const eq = f.indexOf('=');
          return [Number(f.slice(0, eq)), f.slice(eq + 1)] as [number, string];
        });
      const get = (tag: number) => fields.find(([t]) => t === tag)?.[1];
      this.received.push({ type: get(35)!, seq: Number(get(34)), fields, get, all: (tag) => fields.filter(([t]) => t === tag).map(([, v]) => v), raw });
    }
  }

  /** A message with the standard header and the next MsgSeqNum (or `seq`). */
  send(type: string, fields: Fields, options: { seq?: number; header?: Fields } = {}): number {
    const seq = options.seq ?? this.nextSeq++;
    const time = new Date().toISOString().replace(/[-]/g, '').replace('T', '-').slice(0, 21);
    this.write(encodeFix(type, [[49, this.sender], [56, this.target], [34, seq], [52, time], ...(options.header ?? []), ...fields]));
    return seq;
  }

  write(data: string | Uint8Array): void {
    if (typeof data === 'string') this.socket.write(data, 'latin1');
    else this.socket.write(data);
  }

  logon(password: string, extra: Fields = [], heartBtInt = 30): number {
    return this.send('A', [[98, 0], [108, heartBtInt], [553, this.sender], [554, password], ...extra]);
  }

  /** Waits for the first message received after index `from` that matches. */
  async expect(what: string, match: (m: Received) => boolean, from = 0): Promise<Received> {
    let found: Received | undefined;
    await waitFor(what, () => (found = this.received.slice(from).find(match)) !== undefined);
    return found!;
  }

  async waitClosed(what: string): Promise<void> {
    await waitFor(what, () => this.closed);
  }

  close(): void {
    this.socket.destroy();
  }
}
