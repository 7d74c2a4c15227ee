import type { HttpRequest, HttpResponse, RecognizedString } from 'uWebSockets.js';
import { text } from './uws-text';

/**
 * A request read whole before an await. uWS reuses an HttpRequest once its handler returns, so a
 * route whose admission has to wait (a key not in the cache) hands its handler this copy instead:
 * the same methods, answering from values taken while the request was still valid.
 */
export class RequestCopy {
  private readonly url: string;
  private readonly method: string;
  private readonly query: string;
  private readonly parameters: string[] = [];
  private readonly headers = new Map<string, string>();

  constructor(req: HttpRequest, parameterCount: number) {
    this.url = req.getUrl();
    this.method = req.getMethod();
    this.query = req.getQuery() ?? '';
    for (let i = 0; i < parameterCount; i++) this.parameters.push(req.getParameter(i) ?? '');
    req.forEach((key, value) => this.headers.set(key, value));
  }

  getHeader(key: RecognizedString): string {
    return this.headers.get(text(key)) ?? '';
  }

  getParameter(index: number): string {
    return this.parameters[index] ?? '';
  }

  getUrl(): string {
    return this.url;
  }

  getMethod(): string {
    return this.method;
  }

  getCaseSensitiveMethod(): string {
    return this.method.toUpperCase();
  }

  getQuery(key?: string): string {
    if (key === undefined) return this.query;
    return new URLSearchParams(this.query).get(key) ?? '';
  }

  forEach(cb: (key: string, value: string) => void): void {
    for (const [k, v] of this.headers) cb(k, v);
  }

  setYield(): this {
    return this;
  }

  asRequest(): HttpRequest {
    return this as unknown as HttpRequest;
  }
}

/** `:name` segments of a route pattern: how many parameters a copy must take. */
export function parameterCount(pattern: string): number {
  return pattern.split('/').filter((s) => s.startsWith(':')).length;
}

/**
 * A response whose body is read from the moment the request arrives, for handlers that start
 * after an await: uWS delivers body chunks only to an onData registered before the handler
 * returned, and an onAborted registered later replaces the first. The handler's onData gets the
 * chunks that came meanwhile, then the rest; every onAborted is called.
 */
export class BufferedBody {
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private sink: ((chunk: ArrayBuffer, isLast: boolean) => void) | null = null;
  private readonly abortHandlers: (() => void)[] = [];
  aborted = false;

  constructor(private readonly res: HttpResponse) {
    res.onAborted(() => {
      this.aborted = true;
      for (const h of this.abortHandlers) h();
    });
    res.onData((chunk, isLast) => {
      if (this.sink !== null) {
        this.sink(chunk, isLast);
        return;
      }
      // uWS reuses the chunk's memory after this callback returns.
      this.chunks.push(new Uint8Array(chunk).slice());
      this.ended = isLast;
    });
  }

  /** The response as handlers use it. */
  response(): HttpResponse {
    const res = this.res;
    const body = this;
    const view = Object.create(null) as Record<string, unknown>;
    for (const name of ['pause', 'resume', 'writeStatus', 'writeHeader', 'write', 'end', 'endWithoutBody', 'tryEnd', 'close', 'getWriteOffset', 'onWritable', 'getRemoteAddress', 'getRemoteAddressAsText', 'getProxiedRemoteAddress', 'getProxiedRemoteAddressAsText', 'cork']) {
      const method = (res as unknown as Record<string, (...args: unknown[]) => unknown>)[name];
      view[name] = (...args: unknown[]) => {
        const out = method.apply(res, args);
        return out === res ? view : out;
      };
    }
    view.onAborted = (handler: () => void) => {
      body.abortHandlers.push(handler);
      return view;
    };
    view.onData = (handler: (chunk: ArrayBuffer, isLast: boolean) => void) => {
      const pending = body.chunks.splice(0);
      for (let i = 0; i < pending.length; i++) {
        const c = pending[i];
        handler(c.buffer.slice(c.byteOffset, c.byteOffset + c.byteLength) as ArrayBuffer, body.ended && i === pending.length - 1);
      }
      if (!body.ended) body.sink = handler;
      return view;
    };
    return view as unknown as HttpResponse;
  }
}
