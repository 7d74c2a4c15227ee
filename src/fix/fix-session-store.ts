import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
 * What a FIX session keeps across connections (FIX "session" = a pair of CompIDs, not a TCP
 * connection): the next sequence number each way, persisted to `<dir>/<sender>-<target>.seq`, and
 * the last `capacity` application messages sent, in memory, for resends.
 *
 * When the numbers are written: at logon, at logout or disconnect, and every 0.5 s (the acceptor's tick)
 * while they move (`flushIfDirty`). A crash can therefore lose up to half a
 * second of outgoing numbers; the counterparty then sees a MsgSeqNum lower than it expects and
 * logs out, and the operator resets the pair (ResetSeqNumFlag). The message store is not
 * written to disk: after a restart a ResendRequest for earlier messages is answered with a
 * SequenceReset-GapFill (market data that old is stale; a client re-requests it).
 */
export class FixSessionStore {
  /** Next MsgSeqNum we send, and next we expect. */
  nextOut = 1;
  nextIn = 1;
  private readonly ring: (StoredMessage | undefined)[];
  private dirty = false;
  private readonly file: string;

  constructor(
    dir: string,
    readonly sessionKey: string,
    readonly capacity: number,
  ) {
    this.ring = new Array<StoredMessage | undefined>(capacity);
    this.file = path.join(dir, sessionKey.replace(/[^A-Za-z0-9_.-]/g, '_') + '.seq');
    mkdirSync(dir, { recursive: true });
    try {
      const saved = JSON.parse(readFileSync(this.file, 'utf8')) as { nextOut?: unknown; nextIn?: unknown };
      if (Number.isSafeInteger(saved.nextOut) && Number.isSafeInteger(saved.nextIn)) {
        this.nextOut = Math.max(1, saved.nextOut as number);
        this.nextIn = Math.max(1, saved.nextIn as number);
      }
    } catch {
      // No file yet (or unreadable): a new session starts at 1 both ways.
    }
  }

  /** Takes the next outgoing number; application messages are kept for resends. */
  claim(msgType: string, body: FixBody | null, sendingTime: string): number {
    const seq = this.nextOut++;
    if (body !== null) this.ring[seq % this.capacity] = { seq, msgType, body, sendingTime };
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
    this.save();
  }

  flushIfDirty(): void {
    if (this.dirty) this.save();
  }

  save(): void {
    this.dirty = false;
    const tmp = this.file + '.tmp';
    writeFileSync(tmp, JSON.stringify({ nextOut: this.nextOut, nextIn: this.nextIn }));
    renameSync(tmp, this.file);
  }
}
