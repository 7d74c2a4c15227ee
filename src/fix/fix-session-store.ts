import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import type { FixBody } from './fix-codec';

/** One sent application message, kept for ResendRequest. The body is shared with other sessions. */
interface StoredMessage {
  seq: number;
  msgType: string;
  body: FixBody;
  sendingTime: string;
}

/**
 * Outgoing numbers reserved ahead in the sequence file. A crash skips at most this many numbers
 * (gap-filled on request); a write of the file happens once per block while a session sends.
 */
export const SEQ_RESERVE_BLOCK = 1000;

/**
 * What a FIX session keeps across connections and restarts (FIX "session" = a pair of CompIDs,
 * not a TCP connection), in two files under `dir`:
 *
 * - `<key>.seq`: `{"nextOut", "nextIn"}`. `nextOut` there is a high-water mark: while a
 *   connection sends, numbers are reserved SEQ_RESERVE_BLOCK at a time and the file is written
 *   (and synced) before the first number of a block is used, so no number handed to a counterparty
 *   can be handed out again after a crash. A clean end (logout, disconnect, shutdown) writes the
 *   exact next number. `nextIn` is written lazily (the acceptor's tick): a stale value is only
 *   ever too low, which the counterparty's higher MsgSeqNum turns into our ResendRequest.
 * - `<key>.msgs`: an append-only log of the application messages sent (MsgSeqNum, MsgType,
 *   SendingTime, body), written once per event-loop turn from the in-memory ring (not per
 *   message) and rewritten down to the last `capacity` messages when it holds twice as many.
 *   A torn last record (a crash mid-write) is ignored when read.
 *
 * After a restart, a ResendRequest gets the logged messages back; numbers not in the log (admin
 * messages, messages beyond the bound, and a crash's unused reservation) are gap-filled.
 */
export class FixSessionStore {
  /** Next MsgSeqNum we send, and next we expect. */
  nextOut = 1;
  nextIn = 1;
  private readonly ring: (StoredMessage | undefined)[];
  /** Outgoing numbers below this one are on disk as used (the `.seq` file's nextOut). */
  private reservedOut = 1;
  /** Highest MsgSeqNum whose message (if an application one) is in the `.msgs` log. */
  private loggedUpTo = 0;
  private logRecords = 0;
  private logScheduled = false;
  private dirty = false;
  private readonly seqFile: string;
  private readonly logFile: string;

  constructor(
    dir: string,
    readonly sessionKey: string,
    readonly capacity: number,
  ) {
    this.ring = new Array<StoredMessage | undefined>(capacity);
    const base = path.join(dir, sessionKey.replace(/[^A-Za-z0-9_.-]/g, '_'));
    this.seqFile = base + '.seq';
    this.logFile = base + '.msgs';
    mkdirSync(dir, { recursive: true });
    try {
      const saved = JSON.parse(readFileSync(this.seqFile, 'utf8')) as { nextOut?: unknown; nextIn?: unknown };
      if (Number.isSafeInteger(saved.nextOut) && Number.isSafeInteger(saved.nextIn)) {
        this.nextOut = Math.max(1, saved.nextOut as number);
        this.nextIn = Math.max(1, saved.nextIn as number);
      }
    } catch {
      // No file yet (or unreadable): a new session starts at 1 both ways.
    }
    this.reservedOut = this.nextOut;
    this.loggedUpTo = this.nextOut - 1;
    this.readLog();
  }

  /** Takes the next outgoing number; application messages are kept for resends. */
  claim(msgType: string, body: FixBody | null, sendingTime: string): number {
    if (this.nextOut >= this.reservedOut) this.reserve();
    const seq = this.nextOut++;
    if (body !== null) {
      const slot = seq % this.capacity;
      const kept = this.ring[slot];
      if (kept === undefined) this.ring[slot] = { seq, msgType, body, sendingTime };
      else {
        // Reuse the slot's object: no allocation per message once the ring is full.
        kept.seq = seq;
        kept.msgType = msgType;
        kept.body = body;
        kept.sendingTime = sendingTime;
      }
      if (!this.logScheduled) {
        this.logScheduled = true;
        setImmediate(() => this.appendLog());
      }
    }
    this.dirty = true;
    return seq;
  }

  received(): void {
    this.nextIn++;
    this.dirty = true;
  }

  /** The message sent as `seq`, if it was an application message and is still kept. */
  stored(seq: number): StoredMessage | undefined {
    const m = this.ring[seq % this.capacity];
    return m !== undefined && m.seq === seq ? m : undefined;
  }

  /** ResetSeqNumFlag: both directions start again at 1 and nothing sent before can be resent. */
  reset(): void {
    this.nextOut = 1;
    this.nextIn = 1;
    this.ring.fill(undefined);
    this.loggedUpTo = 0;
    this.rewriteLog();
    this.reservedOut = 1;
    this.save();
  }

  flushIfDirty(): void {
    if (this.dirty) this.save();
  }

  /** Writes the numbers: the reservation mark while a connection may send (see the class). */
  save(): void {
    this.dirty = false;
    writeAtomically(this.seqFile, JSON.stringify({ nextOut: this.reservedOut, nextIn: this.nextIn }), false);
  }

  /**
   * No connection sends on this session any more (logout, disconnect, shutdown): the log is
   * brought up to date and the exact next number replaces the reservation.
   */
  release(): void {
    this.appendLog();
    this.reservedOut = this.nextOut;
    this.save();
  }

  private reserve(): void {
    this.appendLog();
    this.reservedOut = this.nextOut + SEQ_RESERVE_BLOCK;
    this.dirty = false;
    writeAtomically(this.seqFile, JSON.stringify({ nextOut: this.reservedOut, nextIn: this.nextIn }), true);
  }

  /** Appends the ring's messages sent since the last append, as one write. */
  private appendLog(): void {
    this.logScheduled = false;
    const last = this.nextOut - 1;
    if (last <= this.loggedUpTo) return;
    const from = Math.max(this.loggedUpTo + 1, last - this.capacity + 1);
    const parts: Uint8Array[] = [];
    let added = 0;
    for (let seq = from; seq <= last; seq++) {
      const m = this.stored(seq);
      if (m === undefined) continue;
      parts.push(...record(m));
      added++;
    }
    this.loggedUpTo = last;
    if (added === 0) return;
    if (this.logRecords + added > 2 * this.capacity) return this.rewriteLog();
    appendFileSync(this.logFile, concat(parts));
    this.logRecords += added;
  }

  /** Compaction (and reset): the log becomes the ring's messages, in order. */
  private rewriteLog(): void {
    const kept = this.ring.filter((m): m is StoredMessage => m !== undefined).sort((a, b) => a.seq - b.seq);
    writeAtomically(this.logFile, concat(kept.flatMap(record)), false);
    this.logRecords = kept.length;
  }

  private readLog(): void {
    let data: Buffer;
    try {
      data = readFileSync(this.logFile);
    } catch {
      return;
    }
    let at = 0;
    let records = 0;
    for (;;) {
      const eol = data.indexOf(0x0a, at);
      if (eol < 0) break;
      const head = /^([1-9][0-9]{0,15}) ([!-~]{1,4}) ([0-9:.-]{1,32}) ([0-9]{1,9})$/.exec(data.toString('latin1', at, eol));
      if (head === null) break;
      const length = Number(head[4]);
      if (eol + 1 + length >= data.length || data[eol + 1 + length] !== 0x0a) break; // torn by a crash
      const seq = Number(head[1]);
      const bytes = new Uint8Array(data.subarray(eol + 1, eol + 1 + length));
      let sum = 0;
      for (const b of bytes) sum += b;
      // Only numbers already handed out count (a log from before a reset is beyond nextOut).
      if (seq < this.nextOut) this.ring[seq % this.capacity] = { seq, msgType: head[2], body: { bytes, sum }, sendingTime: head[3] };
      records++;
      at = eol + 2 + length;
    }
    this.logRecords = records;
  }
}

/** A log record: "<seq> <msgType> <sendingTime> <body length>\n<body>\n" (a body is SOH-separated ASCII). */
function record(m: StoredMessage): Uint8Array[] {
  return [new TextEncoder().encode(`${m.seq} ${m.msgType} ${m.sendingTime} ${m.body.bytes.length}\n`), m.body.bytes, NEWLINE];
}

const NEWLINE = new Uint8Array([0x0a]);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function writeAtomically(file: string, data: string | Uint8Array, sync: boolean): void {
  const tmp = file + '.tmp';
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? new TextEncoder().encode(data) : data);
    // The reservation is synced before the rename so that it outlives a machine crash too.
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  if (sync) {
    // And the rename itself, or a machine crash could bring back the previous file.
    const dir = openSync(path.dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}
