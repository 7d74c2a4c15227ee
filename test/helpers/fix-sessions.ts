import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A --fix-sessions file with the given entries; returns its path. */
export function fixSessionsFile(sessions: { senderCompId: string; password: string; permissions?: string[] }[]): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bookcast-fix-')), 'sessions.json');
  writeFileSync(file, JSON.stringify({ sessions }));
  return file;
}
