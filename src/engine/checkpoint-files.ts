import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import * as path from 'node:path';
import { BookcastError } from '../errors';
import type { Instrument } from '../model/instruments';
import { verifySymbolCheckpoint } from './symbol-checkpoint';

/**
 * Checkpoints on disk, beside the journal they shorten:
 *
 *   <data-dir>/checkpoints/<J, 20 digits>/symbol-<instrument index, 5 digits>.state   one per symbol (symbol-checkpoint.ts)
 *   <data-dir>/checkpoints/<J>/complete.json                                        the marker, written last
 *
 * Every file is written to a temporary name, fsynced, renamed and its directory fsynced, and the
 * marker only after every symbol's file: a checkpoint without its marker (a crash mid-write) does
 * not exist for any reader, and is deleted by the next retention pass. The marker is JSON (one
 * small file per checkpoint; the states are binary):
 *
 *   {"sequence": J, "created_at": ms, "max_timestamp": µs of the latest event up to J,
 *    "symbols": n, "instruments": [[symbol, tick size, lot size], …]}
 *
 * Checkpoints name instruments by index, like the journal, so they carry the instrument list
 * they were made with and a start with another list refuses them.
 */
export const CHECKPOINTS_DIR = 'checkpoints';
const MARKER = 'complete.json';
const DIR_NAME = /^\d{20}$/;

export interface CheckpointInfo {
  /** The journal record the checkpoint is as of. */
  sequence: number;
  path: string;
  /** Wall-clock time (ms) the checkpoint completed. */
  createdAt: number;
  /** Latest event timestamp (µs) among journal records 1..sequence. */
  maxTimestamp: number;
  /** JSON of the instrument list, as instrumentKey() makes it. */
  instruments: string;
}

/** What a directory of checkpoints holds, oldest first. */
export interface CheckpointListing {
  complete: CheckpointInfo[];
  /** Directories without a marker: being written, or left by a crash. */
  incomplete: { sequence: number; path: string }[];
}

/** The instrument list as the journal's instruments.json and every marker spell it. */
export function instrumentKey(instruments: readonly Instrument[]): string {
  return JSON.stringify(instruments.map((i) => [i.symbol, i.tickSize, i.lotSize]));
}

export function checkpointPath(root: string, sequence: number): string {
  return path.join(root, String(sequence).padStart(20, '0'));
}

function symbolFile(checkpoint: string, index: number): string {
  return path.join(checkpoint, `symbol-${String(index).padStart(5, '0')}.state`);
}

export function listCheckpoints(root: string): CheckpointListing {
  const listing: CheckpointListing = { complete: [], incomplete: [] };
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return listing;
    throw error;
  }
  for (const name of names.filter((n) => DIR_NAME.test(n)).sort()) {
    const dir = path.join(root, name);
    const sequence = Number(name);
    let text: string;
    try {
      text = readFileSync(path.join(dir, MARKER), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      listing.incomplete.push({ sequence, path: dir });
      continue;
    }
    const marker = parseMarker(text, dir);
    listing.complete.push({ sequence, path: dir, createdAt: marker.created_at, maxTimestamp: marker.max_timestamp, instruments: JSON.stringify(marker.instruments) });
  }
  return listing;
}

interface Marker {
  sequence: number;
  created_at: number;
  max_timestamp: number;
  symbols: number;
  instruments: unknown;
}

function parseMarker(text: string, dir: string): Marker {
  let marker: Partial<Marker> | null = null;
  try {
    marker = JSON.parse(text) as Partial<Marker>;
  } catch {
    // reported below
  }
  if (marker === null || typeof marker !== 'object' || marker.sequence !== Number(path.basename(dir)) || typeof marker.created_at !== 'number' || typeof marker.max_timestamp !== 'number' || !Array.isArray(marker.instruments)) {
    throw new BookcastError('CHECKPOINT_CORRUPT', `${path.join(dir, MARKER)} is damaged: ${text.slice(0, 200)}`);
  }
  return marker as Marker;
}

/**
 * The newest complete checkpoint in `root`, or null. Throws CONFIG_INVALID when it was made with
 * another instrument list (its files would load into the wrong books).
 */
export function latestCheckpoint(root: string, instruments: readonly Instrument[]): CheckpointInfo | null {
  const latest = listCheckpoints(root).complete.at(-1) ?? null;
  if (latest !== null && latest.instruments !== instrumentKey(instruments)) {
    throw new BookcastError(
      'CONFIG_INVALID',
      `the checkpoints in ${root} were recorded with other symbols (${path.join(latest.path, MARKER)}); start with the same symbols or another --data-dir`,
    );
  }
  return latest;
}

/** A symbol's state in a complete checkpoint, verified (CHECKPOINT_CORRUPT if it is not intact). */
export function readSymbolCheckpoint(checkpoint: { path: string; sequence: number }, index: number): Float64Array {
  const file = symbolFile(checkpoint.path, index);
  let words: Float64Array;
  let fd = -1;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    // Read into a buffer of its own: the float64 view needs 8-byte alignment.
    words = new Float64Array(Math.floor(size / 8));
    const bytes = new Uint8Array(words.buffer);
    for (let got = 0; got < bytes.length; ) {
      const n = readSync(fd, bytes, got, bytes.length - got, got);
      if (n === 0) break;
      got += n;
    }
    if (size % 8 !== 0) throw new BookcastError('CHECKPOINT_CORRUPT', `${file}: ${size} bytes, not whole words`);
  } catch (error) {
    if (error instanceof BookcastError) throw error;
    throw new BookcastError('CHECKPOINT_CORRUPT', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error}), named by a complete checkpoint`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  verifySymbolCheckpoint(words, file, checkpoint.sequence, index);
  return words;
}

/** Creates the directory of checkpoint `sequence` (and the root) for its files. */
export async function createCheckpointDir(root: string, sequence: number): Promise<string> {
  const dir = checkpointPath(root, sequence);
  await mkdir(dir, { recursive: true });
  return dir;
}

export async function writeSymbolFile(checkpoint: string, index: number, words: Float64Array): Promise<void> {
  await writeDurably(symbolFile(checkpoint, index), new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
}

/**
 * Makes checkpoint `sequence` count: its files' names made durable, then the marker written and
 * made durable, with the checkpoint's own entry in the root.
 */
export async function completeCheckpoint(root: string, checkpoint: string, marker: { sequence: number; createdAt: number; maxTimestamp: number; instruments: readonly Instrument[] }): Promise<void> {
  await fsyncDir(checkpoint);
  const text = `{"sequence":${marker.sequence},"created_at":${marker.createdAt},"max_timestamp":${marker.maxTimestamp},"symbols":${marker.instruments.length},"instruments":${instrumentKey(marker.instruments)}}\n`;
  await writeDurably(path.join(checkpoint, MARKER), new TextEncoder().encode(text));
  await fsyncDir(checkpoint);
  await fsyncDir(root);
}

/** Writes, fsyncs and renames into place; the caller fsyncs the directory. */
async function writeDurably(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    for (let done = 0; done < bytes.length; ) done += (await handle.write(bytes, done, bytes.length - done)).bytesWritten;
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
