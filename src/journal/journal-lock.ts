import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JOURNAL_LOCKED, JournalError, ioError } from './journal-error';

const LOCK_NAME = 'journal.lock';

/**
 * Takes the directory for one writer: two writers appending to one journal would interleave
 * sequences and destroy it. The lock is a file holding the owner's pid, created atomically with
 * link(2) from a fully written temporary file (so a crash can never leave an empty lock). A lock
 * whose pid no longer runs is stale (a writer killed with -9) and is taken over. Costs: a pid
 * reused by an unrelated process keeps a stale lock until an operator removes it, and two
 * processes taking over the same stale lock at the same instant are not told apart.
 */
export function acquireJournalLock(dir: string): string {
  const lock = join(dir, LOCK_NAME);
  const temporary = join(dir, `${LOCK_NAME}.${process.pid}`);
  try {
    writeFileSync(temporary, String(process.pid));
  } catch (error) {
    throw ioError('write lock', temporary, error);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(temporary, lock);
        return lock;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('link lock', lock, error);
      }
      const owner = lockOwner(lock);
      if (attempt > 0 || (owner !== 0 && running(owner))) {
        throw new JournalError(JOURNAL_LOCKED, `journal ${dir} is held by process ${owner} (${lock})`, lock);
      }
      try {
        unlinkSync(lock);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('remove stale lock', lock, error);
      }
    }
  } finally {
    unlinkSync(temporary);
  }
}

export function releaseJournalLock(lock: string): void {
  unlinkSync(lock);
}

function lockOwner(lock: string): number {
  try {
    return Number(readFileSync(lock, 'utf8')) || 0;
  } catch {
    return 0;
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
