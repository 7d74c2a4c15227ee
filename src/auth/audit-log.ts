import { createHash } from 'node:crypto';
import type { SqlClient } from '../store/sql-client';
import { sameHash } from './secret-hashes';

/** pg_advisory_xact_lock key taken to append, so rows from several processes chain in one line. */
const AUDIT_LOCK = 0x61756474; // 'audt'
const GENESIS = new Uint8Array(32);

export interface AuditEntry {
  /** Who acted: `cli`, `client:<id>`, `ip:<address>`. */
  actor: string;
  /** What happened: login, login_failed, key_created, client_suspended … (README "Audit log"). */
  action: string;
  /** What it happened to: a client id, a key id; null when nothing in particular. */
  subject: string | null;
  ip: string | null;
  /** Anything else worth keeping, never a secret. */
  detail: Record<string, unknown>;
}

export interface AuditRow extends AuditEntry {
  seq: number;
  atUs: number;
}

/** What `verify` found: ok, or the first row whose chain breaks and why. */
export type AuditVerdict = { ok: true; rows: number; head: string } | { ok: false; rows: number; seq: number; reason: string };

/**
 * One row's hash: SHA-256 over the previous row's hash and this row's fields, each
 * length-prefixed so that no two different rows serialise alike.
 */
function rowHash(prev: Uint8Array, seq: number, atUs: number, actor: string, action: string, subject: string | null, ip: string | null, detail: string): Uint8Array {
  const h = createHash('sha256').update(prev);
  for (const field of [String(seq), String(atUs), actor, action, subject ?? '\u0000', ip ?? '\u0000', detail]) {
    const bytes = new TextEncoder().encode(field);
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, bytes.length);
    h.update(length).update(bytes);
  }
  return new Uint8Array(h.digest());
}

/**
 * The append-only audit log: every row carries the hash of the one before it, so editing a row
 * breaks its own hash and deleting one leaves a gap in the sequence and breaks the next row's
 * link. Deleting the newest rows leaves a shorter chain that is still whole: `verify` reports the
 * head (row count and hash) so an operator who keeps it elsewhere catches that too. A trigger
 * refuses UPDATE and DELETE; the chain catches what gets past it (a superuser, a restored dump).
 */
export class AuditLog {
  constructor(
    private readonly db: SqlClient,
    private readonly clock: () => number = Date.now,
  ) {}

  async append(entry: AuditEntry): Promise<void> {
    const detail = JSON.stringify(entry.detail);
    await this.db.transaction(async (tx) => {
      await tx.rows('select pg_advisory_xact_lock($1::bigint)', [AUDIT_LOCK]);
      const last = await tx.rows('select seq, hash from audit_log order by seq desc limit 1', []);
      const seq = last.length === 0 ? 1 : Number(last[0][0]) + 1;
      const prev = last.length === 0 ? GENESIS : new Uint8Array(last[0][1] as Uint8Array);
      const atUs = Math.round(this.clock() * 1000);
      const hash = rowHash(prev, seq, atUs, entry.actor, entry.action, entry.subject, entry.ip, detail);
      await tx.rows('insert into audit_log (seq, at_us, actor, action, subject, ip, detail, prev_hash, hash) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
        seq,
        atUs,
        entry.actor,
        entry.action,
        entry.subject,
        entry.ip,
        detail,
        prev,
        hash,
      ]);
    });
  }

  /** Rows, newest last; `subject` narrows to one client or key. */
  async list(limit: number, subject: string | null = null): Promise<AuditRow[]> {
    const rows = await this.db.rows(
      `select seq, at_us, actor, action, subject, ip, detail from (select * from audit_log ${subject === null ? '' : 'where subject = $2'} order by seq desc limit $1) t order by seq`,
      subject === null ? [limit] : [limit, subject],
    );
    return rows.map(([seq, atUs, actor, action, subj, ip, detail]) => ({
      seq: Number(seq),
      atUs: Number(atUs),
      actor: actor as string,
      action: action as string,
      subject: subj as string | null,
      ip: ip as string | null,
      detail: JSON.parse(detail as string) as Record<string, unknown>,
    }));
  }

  /**
   * Walks the whole chain in order: sequences must run 1, 2, 3 … without a gap, each row's
   * prev_hash must be the previous row's hash and its own hash must match its fields.
   */
  async verify(): Promise<AuditVerdict> {
    let prev: Uint8Array = GENESIS;
    let expected = 1;
    let after = 0;
    const page = 1000;
    for (;;) {
      const rows = await this.db.rows('select seq, at_us, actor, action, subject, ip, detail, prev_hash, hash from audit_log where seq > $1 order by seq limit $2', [after, page]);
      for (const [seqText, atUs, actor, action, subject, ip, detail, prevHash, hash] of rows) {
        const seq = Number(seqText);
        if (seq !== expected) return { ok: false, rows: expected - 1, seq: expected, reason: `row ${expected} is missing (next is ${seq})` };
        if (!sameHash(new Uint8Array(prevHash as Uint8Array), prev)) return { ok: false, rows: expected - 1, seq, reason: `row ${seq} does not link to row ${seq - 1}` };
        const own = rowHash(prev, seq, Number(atUs), actor as string, action as string, subject as string | null, ip as string | null, detail as string);
        if (!sameHash(own, new Uint8Array(hash as Uint8Array))) return { ok: false, rows: expected - 1, seq, reason: `row ${seq} was edited (its hash does not match its fields)` };
        prev = own;
        expected++;
        after = seq;
      }
      if (rows.length < page) return { ok: true, rows: expected - 1, head: Buffer.from(prev).toString('hex') };
    }
  }
}
