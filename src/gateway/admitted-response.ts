import type { HttpResponse, RecognizedString } from 'uWebSockets.js';

/** What the admission adds to every answer of a request it let through. */
export interface AnswerExtras {
  /** Called with the body just before it is sent; returns extra headers (a signature) or null. */
  sign: ((body: Uint8Array | string) => [string, string] | null) | null;
  /** Called once when the answer is sent or the client went away (status 499). */
  done: (status: number, bytes: number) => void;
}

/**
 * The response a handler sees once its request is admitted: the uWS response, plus the headers
 * the admission owes the client on every answer, a count of what was sent (accounting), and one
 * abort handler per request that any number of parties can listen to (uWS keeps only the last
 * one registered). It also replays a request body that arrived while the admission was still
 * deciding (a Redis round trip): uWS delivers a body to whoever listens when it arrives.
 *
 * Only the methods bookcast's handlers use are here; the object is handed to them as an
 * HttpResponse.
 */
export class AdmittedResponse {
  aborted = false;
  private statusWritten = false;
  private status = 200;
  private finished = false;
  private readonly abortHandlers: (() => void)[] = [];
  private dataHandler: ((chunk: ArrayBuffer, isLast: boolean) => void) | null = null;
  /** Body chunks that arrived before a handler listened; null once one does. */
  private early: { chunks: ArrayBuffer[]; ended: boolean } | null = null;
  /** Headers written right after the status line, whatever the handler answers (rate-limit state). */
  private readonly headers: [string, string][] = [];

  constructor(
    readonly res: HttpResponse,
    private readonly extras: AnswerExtras,
  ) {
    res.onAborted(() => {
      this.aborted = true;
      this.finish(499, 0);
      for (const h of this.abortHandlers) h();
    });
  }

  addHeader(name: string, value: string): void {
    this.headers.push([name, value]);
  }

  /** Starts keeping the body until a handler listens (the decision is asynchronous). */
  holdBody(): void {
    this.early = { chunks: [], ended: false };
    this.res.onData((chunk, isLast) => {
      // uWS reuses the chunk's memory after this callback returns: copy it.
      if (this.dataHandler !== null) this.dataHandler(chunk, isLast);
      else if (this.early !== null) {
        this.early.chunks.push(chunk.slice(0));
        this.early.ended = isLast;
      }
    });
  }

  onAborted(handler: () => void): this {
    this.abortHandlers.push(handler);
    return this;
  }

  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): this {
    const early = this.early;
    if (early === null) {
      this.res.onData(handler);
      return this;
    }
    this.dataHandler = handler;
    this.early = null;
    for (let i = 0; i < early.chunks.length; i++) handler(early.chunks[i], early.ended && i === early.chunks.length - 1);
    return this;
  }

  cork(cb: () => void): this {
    this.res.cork(cb);
    return this;
  }

  getRemoteAddressAsText(): ArrayBuffer {
    return this.res.getRemoteAddressAsText();
  }

  writeStatus(status: RecognizedString): this {
    this.res.writeStatus(status);
    this.status = parseInt(String(status), 10) || 200;
    this.statusWritten = true;
    for (const [name, value] of this.headers) this.res.writeHeader(name, value);
    return this;
  }

  writeHeader(name: RecognizedString, value: RecognizedString): this {
    this.res.writeHeader(name, value);
    return this;
  }

  end(body?: Uint8Array | string, closeConnection?: boolean): this {
    if (!this.statusWritten) this.writeStatus('200 OK');
    const text = body ?? '';
    if (this.extras.sign !== null && this.status === 200) {
      const header = this.extras.sign(text);
      if (header !== null) this.res.writeHeader(header[0], header[1]);
    }
    this.res.end(text, closeConnection);
    this.finish(this.status, typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength);
    return this;
  }

  private finish(status: number, bytes: number): void {
    if (this.finished) return;
    this.finished = true;
    this.extras.done(status, bytes);
  }
}
