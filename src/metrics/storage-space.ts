import { statfsSync } from 'node:fs';

export interface StorageSpace {
  totalBytes: number;
  freeBytes: number;
  usedBytes: number;
}

/**
 * The data directory's filesystem (statfs): free is what an unprivileged writer may still use
 * (f_bavail), as the journal and the store would find it. Null while the directory cannot be
 * looked at (it was removed under the server): the metric is absent rather than wrong.
 */
export function storageSpace(dir: string): StorageSpace | null {
  try {
    const s = statfsSync(dir);
    const totalBytes = s.blocks * s.bsize;
    const freeBytes = s.bavail * s.bsize;
    return { totalBytes, freeBytes, usedBytes: totalBytes - s.bfree * s.bsize };
  } catch {
    return null;
  }
}
