/**
 * Cold-path errors of the input journal. Every one means the journal cannot be trusted or used
 * as it stands, so they are thrown, never returned; `file` and `offset` say where to look when
 * they point at bytes on disk.
 */
import { BookcastError } from '../errors';

export const JOURNAL_CORRUPT = 'JOURNAL_CORRUPT';
export const JOURNAL_LOCKED = 'JOURNAL_LOCKED';
export const JOURNAL_IO = 'JOURNAL_IO';
export const JOURNAL_OPTIONS = 'JOURNAL_OPTIONS';
export const JOURNAL_CLOSED = 'JOURNAL_CLOSED';
export const JOURNAL_NOT_FOUND = 'JOURNAL_NOT_FOUND';
export const JOURNAL_UNSUPPORTED = 'JOURNAL_UNSUPPORTED';

export type JournalErrorCode =
  | typeof JOURNAL_CORRUPT
  | typeof JOURNAL_LOCKED
  | typeof JOURNAL_IO
  | typeof JOURNAL_OPTIONS
  | typeof JOURNAL_CLOSED
  | typeof JOURNAL_NOT_FOUND
  | typeof JOURNAL_UNSUPPORTED;

/** A journal problem; its codes are in the error catalog (src/errors.ts). */
export class JournalError extends BookcastError {
  readonly file: string | null;
  readonly offset: number;

  constructor(code: JournalErrorCode, message: string, file: string | null = null, offset = -1, cause?: unknown) {
    super(code, message);
    if (cause !== undefined) this.cause = cause;
    this.name = 'JournalError';
    this.file = file;
    this.offset = offset;
  }
}

/** Wraps a failed system call, keeping its errno code (ENOSPC, EIO, ...) in the message. */
export function ioError(what: string, file: string | null, cause: unknown): JournalError {
  const errno = (cause as NodeJS.ErrnoException | null)?.code ?? 'unknown';
  return new JournalError(JOURNAL_IO, `${what} failed (${errno})${file === null ? '' : `: ${file}`}`, file, -1, cause);
}
