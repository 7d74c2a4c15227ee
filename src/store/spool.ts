import { appendFileSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import type { Batch } from './batch';

/**
 * Batches the database could not take yet, in arrival order: in memory up to `memoryRows`, then
 * appended to `<dir>/spool.ndjson`, so a long outage costs disk, not memory, and nothing is
 * dropped. Taking batches back returns them oldest first: what is on disk, then what is in memory.
 */
export class Spool {
  private readonly memory: Batch[] = [];
  private memoryRows = 0;
  private readonly file: string;
  /** Rows held (memory and disk). */
  rows = 0;
  /** Rows ever written to the disk spool. */
  spilled = 0;
  /** Rows the database refused for good, kept in `rejected.ndjson`. */
  rejected = 0;
  private readonly rejectedFile: string;

  constructor(dir: string, private readonly maxMemoryRows: number) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, 'spool.ndjson');
    this.rejectedFile = path.join(dir, 'rejected.ndjson');
    if (existsSync(this.file)) {
      // Left by a previous run that stopped during an outage: it is the oldest data.
      for (const line of readFileSync(this.file, 'utf8').split('\n')) if (line) this.rows += size(JSON.parse(line) as Batch);
    }
  }

  get empty(): boolean {
    return this.rows === 0;
  }

  /** Keeps a batch the database will never take aside, for an operator to look at. */
  reject(batch: Batch): void {
    appendFileSync(this.rejectedFile, JSON.stringify(batch) + '\n');
    this.rejected += size(batch);
  }

  /** Appends a batch to the disk spool whatever the memory budget (used when shutting down). */
  persist(batch: Batch): void {
    appendFileSync(this.file, JSON.stringify(batch) + '\n');
    this.rows += size(batch);
    this.spilled += size(batch);
  }

  add(batch: Batch): void {
    const n = size(batch);
    this.rows += n;
    if (this.memoryRows + n <= this.maxMemoryRows && !existsSync(this.file)) {
      this.memory.push(batch);
      this.memoryRows += n;
      return;
    }
    // Once anything is on disk, later batches follow it there, so order is kept.
    appendFileSync(this.file, JSON.stringify(batch) + '\n');
    this.spilled += n;
  }

  /** Everything held, oldest first; the spool is empty afterwards unless `giveBack` is called. */
  takeAll(): Batch[] {
    const batches: Batch[] = [];
    if (existsSync(this.file)) {
      for (const line of readFileSync(this.file, 'utf8').split('\n')) if (line) batches.push(JSON.parse(line) as Batch);
      unlinkSync(this.file);
    }
    batches.push(...this.memory);
    this.memory.length = 0;
    this.memoryRows = 0;
    this.rows = 0;
    return batches;
  }
}

function size(b: Batch): number {
  return b.trades.length + b.candles.length + b.books.length;
}
