import { closeSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
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
export const SEQ_RESERVE_BLOCK = 10_000;
/** The `.seq` file's fixed size. */
const SEQ_FILE_BYTES = 64;

/**
 * What a FIX session keeps across connections and restarts (FIX "session" = a pair of CompIDs,
 * not a TCP connection), in files under `dir`:
 *
 * - `<key>.seq`: `{"nextOut", "nextIn"}`. `nextOut` there is a high-water mark: while a
 *   connection sends, numbers are reserved SEQ_RESERVE_BLOCK at a time and the file is written
 *   (and synced) before the first number of a block is used, so no number handed to a counterparty
 *   can be handed out again after a crash. A clean end (logout, disconnect, shutdown) writes the
 *   exact next number. `nextIn` is written lazily (the acceptor's tick): a stale value is only
 *   ever too low, which the counterparty's higher MsgSeqNum turns into our ResendRequest.
 * - `<key>.0.msgs` and `<key>.1.msgs`: append-only logs of the application messages sent
 *   (MsgSeqNum, MsgType, SendingTime, body), written once per event-loop turn from the in-memory
 *   ring (not per message). Appends go to one segment until it would pass `capacity` records;
 *   then the other one is truncated and takes over, so the two hold the last `capacity` messages
 *   at least and `2 × capacity` at most, with no rewriting. A torn last record (a crash
 *   mid-write) is cut off when read.
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
  /** The segment appended to (0 or 1), its descriptor once opened, and the records it holds. */
  private segment = 0;
  private segmentFd: number | null = null;
  private segmentRecords = 0;
  private logScheduled = false;
  private dirty = false;
  private seqFd: number | null = null;
  private readonly seqFile: string;
  private readonly segmentFiles: [string, string];

  constructor(
    dir: string,
    readonly sessionKey: string,
    readonly capacity: number,
  ) {
    this.ring = new Array<StoredMessage | undefined>(capacity);
    const base = path.join(dir, sessionKey.replace(/[^A-Za-z0-9_.-]/g, '_'));
    this.seqFile = base + '.seq';
    this.segmentFiles = [base + '.0.msgs', base + '.1.msgs'];
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
    this.closeSegment();
    for (const file of this.segmentFiles) closeSync(openSync(file, 'w'));
    this.segment = 0;
    this.segmentRecords = 0;
    this.reservedOut = 1;
    this.save();
  }

  flushIfDirty(): void {
    if (this.dirty) this.save();
  }

  /** Writes the numbers: the reservation mark while a connection may send (see the class). */
  save(): void {
    this.dirty = false;
    this.writeSeq(false);
  }

  /**
   * No connection sends on this session any more (logout, disconnect, shutdown): the log is
   * brought up to date and the exact next number replaces the reservation.
   */
  release(): void {
    this.appendLog();
    this.closeSegment();
    this.reservedOut = this.nextOut;
    this.save();
  }

  /**
   * The `.seq` file is rewritten in place, at a fixed width (JSON padded with spaces) that fits in
   * one disk sector, through a descriptor kept open: no rename, so one fdatasync makes a
   * reservation durable.
   */
  private writeSeq(sync: boolean): void {
    if (this.seqFd === null) {
      this.seqFd = openSync(this.seqFile, 'a+');
      closeSync(this.seqFd);
      this.seqFd = openSync(this.seqFile, 'r+');
      ftruncateSync(this.seqFd, SEQ_FILE_BYTES);
    }
    const text = `{"nextOut":${String(this.reservedOut).padStart(16)},"nextIn":${String(this.nextIn).padStart(16)}}`.padEnd(SEQ_FILE_BYTES - 1) + '\n';
    writeSync(this.seqFd, text, 0, 'latin1');
    if (sync) fdatasyncSync(this.seqFd);
  }

  private reserve(): void {
    this.appendLog();
    this.reservedOut = this.nextOut + SEQ_RESERVE_BLOCK;
    this.dirty = false;
    this.writeSeq(true);
  }

  /** Appends the ring's messages sent since the last append, as one write. */
  private appendLog(): void {
    this.logScheduled = false;
    const last = this.nextOut - 1;
    if (last <= this.loggedUpTo) return;
    let length = 0;
    let added = 0;
    for (let seq = Math.max(this.loggedUpTo + 1, last - this.capacity + 1); seq <= last; seq++) {
      const m = this.stored(seq);
      if (m === undefined) continue;
      length = encodeRecord(length, m);
      added++;
    }
    this.loggedUpTo = last;
    if (added === 0) return;
    if (this.segmentRecords + added > this.capacity) {
      // The other segment starts again: with this one it holds at least the last `capacity`.
      this.closeSegment();
      this.segment ^= 1;
      this.segmentFd = openSync(this.segmentFiles[this.segment], 'w');
      this.segmentRecords = 0;
    }
    if (this.segmentFd === null) this.segmentFd = openSync(this.segmentFiles[this.segment], 'a');
    writeAll(this.segmentFd, length);
    this.segmentRecords += added;
  }

  private closeSegment(): void {
    if (this.segmentFd === null) return;
    closeSync(this.segmentFd);
    this.segmentFd = null;
  }

  /** Both segments into the ring; appends continue in the one written last, cut after its last whole record. */
  private readLog(): void {
    const last = [0, 0];
    for (const i of [0, 1]) {
      const { records, lastSeq, validBytes, torn } = this.readSegment(this.segmentFiles[i]);
      last[i] = lastSeq;
      if (torn) truncateSync(this.segmentFiles[i], validBytes);
      if (lastSeq > 0 && lastSeq >= last[this.segment]) {
        this.segment = i;
        this.segmentRecords = records;
      }
    }
  }

  private readSegment(file: string): { records: number; lastSeq: number; validBytes: number; torn: boolean } {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch {
      return { records: 0, lastSeq: 0, validBytes: 0, torn: false };
    }
    let at = 0;
    let records = 0;
    let lastSeq = 0;
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
      const slot = seq % this.capacity;
      const held = this.ring[slot];
      // Only numbers already handed out count; of two segments' records for a slot, the later.
      if (seq < this.nextOut && (held === undefined || held.seq < seq)) this.ring[slot] = { seq, msgType: head[2], body: { bytes, sum }, sendingTime: head[3] };
      records++;
      lastSeq = seq;
      at = eol + 2 + length;
    }
    return { records, lastSeq, validBytes: at, torn: at < data.length };
  }
}
/**
 * Records are encoded into one scratch buffer, shared by every store (they all run on the front
 * thread) and grown as needed, so an append allocates only the record's header text.
 */
let scratch = Buffer.allocUnsafe(1 << 16);

/** Writes the record of `m` at `at` in the scratch buffer and returns where it ends: "<seq> <msgType> <sendingTime> <body length>\n<body>\n" (a body is SOH-separated ASCII). */
function encodeRecord(at: number, m: StoredMessage): number {
  const head = m.seq + ' ' + m.msgType + ' ' + m.sendingTime + ' ' + m.body.bytes.length + '\n';
  const end = at + head.length + m.body.bytes.length + 1;
  if (end > scratch.length) {
    const bigger = Buffer.allocUnsafe(Math.max(end, scratch.length * 2));
    bigger.set(scratch.subarray(0, at) as unknown as Uint8Array);
    scratch = bigger;
  }
  at += scratch.write(head, at, 'latin1');
  scratch.set(m.body.bytes, at);
  scratch[end - 1] = 0x0a;
  return end;
}

function writeAll(fd: number, length: number): void {
  for (let at = 0; at < length; ) at += writeSync(fd, scratch as unknown as Uint8Array, at, length - at);
}
