import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { BookcastError } from '../errors';
import { SESSION_NAME } from './ingest-protocol';

/**
 * The publisher session in force, kept beside the journal it numbers (see ingest-protocol.ts):
 * <journal>/ingest-session.json, {"session": name, "journal_base": n}. Written before the
 * session's first event is journaled, atomically (write, fsync, rename, fsync the directory), so
 * after any crash it names the session whose events follow journal record n.
 */
const FILE = 'ingest-session.json';

export interface IngestSessionRecord {
  session: string;
  journalBase: number;
}

export function readIngestSession(journalDir: string): IngestSessionRecord | null {
  let text: string;
  try {
    text = readFileSync(path.join(journalDir, FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const value = JSON.parse(text) as { session?: unknown; journal_base?: unknown };
  if (typeof value.session !== 'string' || !SESSION_NAME.test(value.session) || !Number.isSafeInteger(value.journal_base) || (value.journal_base as number) < 0) {
    throw new BookcastError('CONFIG_INVALID', `${path.join(journalDir, FILE)} is damaged: ${text.slice(0, 200)}`);
  }
  return { session: value.session, journalBase: value.journal_base as number };
}

export function writeIngestSession(journalDir: string, record: IngestSessionRecord): void {
  const target = path.join(journalDir, FILE);
  const tmp = `${target}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify({ session: record.session, journal_base: record.journalBase }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, target);
  const dir = openSync(journalDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/**
 * Another live source would journal its own events after the session's, and the session's
 * numbering would no longer hold: a publisher reconnecting to it would be told wrong sequences.
 * Such a start is refused; ending the session is the operator's decision.
 */
export function refuseIfIngestSession(journalDir: string): void {
  const record = readIngestSession(journalDir);
  if (record === null) return;
  throw new BookcastError(
    'CONFIG_INVALID',
    `the journal in ${journalDir} belongs to publisher session "${record.session}": start with --source ingest, use another --data-dir, or delete ${path.join(journalDir, FILE)} to end the session`,
  );
}
