import { rm, unlink } from 'node:fs/promises';
import { CheckpointInfo, fsyncDir, listCheckpoints } from './checkpoint-files';
import { listSegments } from '../journal/journal-segments';

export interface RetentionPolicy {
  journalDir: string;
  checkpointsDir: string;
  /** Journal and checkpoints are kept at least this long (ms); 0 keeps the whole journal. */
  retentionMs: number;
  /** Wall-clock ms the pass judges ages by. */
  now: number;
}

export interface RetentionResult {
  segments: number;
  checkpoints: number;
}

const HOUR_MS = 3_600_000;

/**
 * Deletes what no longer serves a restart or an orderbook?at= within the retention window. Run
 * after each checkpoint completes (one pass at a time; readers may be active meanwhile).
 *
 * - The base is the newest complete checkpoint made at or before now - retention: every time
 *   inside the window can be rebuilt from it (or a later one) plus the journal after it. Journal
 *   segments wholly at or below the base's record (all older than the window, since the base is)
 *   are deleted, oldest first, never the segment being written; so are checkpoints older than
 *   the base, whose journal tail is gone.
 * - Between the base and the newest, one checkpoint per hour is kept (the first of each clock
 *   hour): orderbook?at= then replays at most about an hour of journal, and a checkpoint every
 *   few seconds (a busy feed) does not pile up. The newest complete checkpoint is never deleted.
 * - Directories without a marker older than the newest complete checkpoint are a crash's
 *   leftovers (a newer one may still be being written, and is left alone).
 *
 * Without a base (retention 0, or no checkpoint old enough) no segment is deleted.
 */
export async function applyRetention(policy: RetentionPolicy): Promise<RetentionResult> {
  const result: RetentionResult = { segments: 0, checkpoints: 0 };
  const { complete, incomplete } = listCheckpoints(policy.checkpointsDir);
  const newest = complete.at(-1);
  if (newest === undefined) return result;
  const horizon = policy.now - policy.retentionMs;
  let base: CheckpointInfo | undefined;
  if (policy.retentionMs > 0) for (const c of complete) if (c.createdAt <= horizon) base = c;

  const doomed: { path: string }[] = incomplete.filter((c) => c.sequence < newest.sequence);
  let hour = base === undefined ? -1 : Math.floor(base.createdAt / HOUR_MS);
  for (const c of complete) {
    if (c === newest || c === base) continue;
    if (base !== undefined && c.sequence < base.sequence) {
      doomed.push(c);
      continue;
    }
    const bucket = Math.floor(c.createdAt / HOUR_MS);
    if (bucket === hour) doomed.push(c);
    else hour = bucket;
  }
  // Checkpoints first: a crash between the two steps then leaves journal without a checkpoint
  // (still replayable), never a checkpoint whose journal tail is gone.
  for (const c of doomed) {
    await rm(c.path, { recursive: true, force: true });
    result.checkpoints++;
  }
  if (doomed.length > 0) await fsyncDir(policy.checkpointsDir);

  if (base !== undefined) result.segments = await deleteSegmentsThrough(policy.journalDir, base);
  return result;
}

/** Deletes, oldest first, the segments whose every record is at or below `base.sequence`. */
async function deleteSegmentsThrough(journalDir: string, base: CheckpointInfo): Promise<number> {
  const segments = listSegments(journalDir);
  let deleted = 0;
  // A segment ends just before the next one starts; the last one (being written) never goes.
  for (let i = 0; i + 1 < segments.length && segments[i + 1].firstSequence <= base.sequence + 1; i++) {
    // One at a time, oldest first, each made durable before the next: a crash anywhere leaves
    // a contiguous journal (a hole would read as corruption at the next start).
    await unlink(segments[i].path);
    await fsyncDir(journalDir);
    deleted++;
  }
  return deleted;
}
