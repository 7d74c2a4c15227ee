import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A segment file of a journal directory; see journal-layout.ts for the naming. */
export interface SegmentFile {
  name: string;
  path: string;
  firstSequence: number;
}

const SEGMENT_NAME = /^journal-(\d{20})\.log$/;
const SEQUENCE_DIGITS = 20;

export function segmentFileName(firstSequence: number): string {
  return `journal-${String(firstSequence).padStart(SEQUENCE_DIGITS, '0')}.log`;
}

/** The segments of `dir` in sequence order; other files (the lock, an operator's notes) are ignored. */
export function listSegments(dir: string): SegmentFile[] {
  const segments: SegmentFile[] = [];
  for (const name of readdirSync(dir)) {
    const match = SEGMENT_NAME.exec(name);
    if (match !== null) segments.push({ name, path: join(dir, name), firstSequence: Number(match[1]) });
  }
  return segments.sort((a, b) => a.firstSequence - b.firstSequence);
}
