import WebSocket from 'ws';
import { HANG_GUARD_MS } from './test-server';

/** Opens a WebSocket (`localAddress` picks the client's source address, e.g. 127.0.0.2); rejects if it is refused. */
export function openSocket(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** The HTTP answer to a refused upgrade: status and error code; rejects if the upgrade is accepted. */
export function refusedUpgrade(url: string, headers: Record<string, string> = {}, options: WebSocket.ClientOptions = {}): Promise<{ status: number; code: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ...options, headers });
    ws.on('open', () => {
      ws.close();
      reject(new Error(`${url} was accepted`));
    });
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, code: (JSON.parse(body) as { error: { code: string } }).error.code }));
    });
  });
}

/** Resolves with the close code and reason the client saw (1006: the connection dropped without a close frame). */
export function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/**
 * The next JSON text message on a raw socket that passes `test` (for hostile input the SDK would
 * never send, and the replies to it); the deadline is generous, for a loaded machine.
 */
export function nextJson(ws: WebSocket, test: (m: any) => boolean, timeoutMs = HANG_GUARD_MS): Promise<any> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const m = JSON.parse(data.toString());
      if (!test(m)) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(m);
    };
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      reject(new Error(`timed out waiting for a message (${test})`));
    }, timeoutMs);
    ws.on('message', onMessage);
  });
}
