import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_WORDS } from '../../src/model/events';
import { JournalHandler } from '../../src/journal/journal-reader';

/** Timestamp of journal sequence s in the events below: 10 µs apart, from a fixed epoch. */
export const T0 = 1_700_000_000_000_000;
export const timestampOf = (sequence: number): number => T0 + sequence * 10;

/** Writes the event the tests expect at journal sequence `s` into f64[offset...]. */
export function eventFor(s: number, f64: Float64Array, offset: number): void {
  f64[offset] = 1 + (s % 8);
  f64[offset + 1] = s % 13;
  f64[offset + 2] = s % 2;
  f64[offset + 3] = s * 3 + 1;
  f64[offset + 4] = 100_000 + (s % 977) + 0.25;
  f64[offset + 5] = 1 + (s % 50);
  f64[offset + 6] = s * 3 + 2;
  f64[offset + 7] = timestampOf(s);
}

const expected = new Float64Array(EVENT_WORDS);

/** Whether f64[offset...] holds eventFor(s). */
export function isEventFor(s: number, f64: Float64Array, offset: number): boolean {
  eventFor(s, expected, 0);
  for (let i = 0; i < EVENT_WORDS; i++) if (f64[offset + i] !== expected[i]) return false;
  return true;
}

/** Collects what a replay delivers: sequences in order, and the first sequence whose words were wrong. */
export class Collector implements JournalHandler {
  sequences: number[] = [];
  firstWrong = -1;

  onEvent(sequence: number, f64: Float64Array, offset: number): void {
    this.sequences.push(sequence);
    if (this.firstWrong < 0 && !isEventFor(sequence, f64, offset)) this.firstWrong = sequence;
  }
}

export function temporaryDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'bookcast-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * Calls `poll` once an event-loop turn until `done`, so a background fdatasync's completion
 * lands; false only after a deadline far above what an fdatasync takes on a busy disk (a count
 * of turns ran out first when the disk was slow).
 */
export async function until(done: () => boolean, poll: () => void = () => undefined): Promise<boolean> {
  const deadline = Date.now() + 120_000;
  while (!done() && Date.now() < deadline) {
    poll();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return done();
}
