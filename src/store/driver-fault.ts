/** A frame of postgres.js's own code in a stack. */
const DRIVER_FRAME = /[\\/]node_modules[\\/]postgres[\\/]/;

/**
 * Whether an exception nobody caught is postgres.js tripping over a connection it has already
 * dropped (3.4.9 writes to its socket after setting it to null: a TypeError from its own code),
 * which the persistence worker takes as the store failing rather than as its own end.
 */
export function isDriverFault(err: unknown): boolean {
  return err instanceof TypeError && DRIVER_FRAME.test(err.stack ?? '');
}
