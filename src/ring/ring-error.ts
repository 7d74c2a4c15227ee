/**
 * Cold-path errors of the shared-memory primitives. They mean a programming error (a wrong
 * size, an oversize record), never back-pressure, which is a return value.
 */
export const ERR_RING_BUFFER = 'ERR_RING_BUFFER';
export const ERR_RING_CAPACITY = 'ERR_RING_CAPACITY';
export const ERR_RING_RECORD_LENGTH = 'ERR_RING_RECORD_LENGTH';
export const ERR_RING_RECORD_TYPE = 'ERR_RING_RECORD_TYPE';
export const ERR_SEQLOCK_LAYOUT = 'ERR_SEQLOCK_LAYOUT';
export const ERR_SEQLOCK_WORDS = 'ERR_SEQLOCK_WORDS';
export const ERR_IDLE_STRATEGY = 'ERR_IDLE_STRATEGY';

export class RingError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'RingError';
    this.code = code;
  }
}
