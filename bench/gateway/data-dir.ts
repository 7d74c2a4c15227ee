import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A fresh --data-dir for one bookcast server of a benchmark: the embedded store starts empty
 * every time (no history from earlier runs changing what it costs) and nothing lands in the
 * working tree. remove() is safe to call more than once.
 */
export class DataDir {
  readonly path = mkdtempSync(path.join(os.tmpdir(), 'bookcast-bench-'));

  get args(): string[] {
    return ['--data-dir', this.path];
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
