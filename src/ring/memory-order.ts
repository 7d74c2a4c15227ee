import { BookcastError } from '../errors';

/**
 * The CPU architectures whose memory ordering the seqlock's protocol has been argued for, from
 * the instructions V8 emits for Atomics there (see seqlock-table.ts): x64 (TSO, XCHG stores) and
 * arm64 (STLR/LDAR, plus one extra Atomic on each side). The uWS package also ships a 32-bit
 * ARM binary, and V8 also runs on ppc64, s390x, riscv64, loong64 and mips64: nobody has checked
 * its lowering of Atomics there, and a seqlock that let a torn copy through would serve a wrong
 * book with a right checksum, so the server refuses to start (before loading uWS, so the error
 * names the reason rather than a missing binary).
 */
export const SEQLOCK_ARCHITECTURES: readonly string[] = ['x64', 'arm64'];

/** Throws UNSUPPORTED_ARCH unless `arch` (default: this process's) is one the seqlock is argued for. */
export function checkMemoryOrder(arch: string = process.arch): void {
  if (!SEQLOCK_ARCHITECTURES.includes(arch)) {
    throw new BookcastError(
      'UNSUPPORTED_ARCH',
      `the shared-memory book mirror is verified on ${SEQLOCK_ARCHITECTURES.join(' and ')} only, this is ${arch}; refusing to start`,
    );
  }
}
