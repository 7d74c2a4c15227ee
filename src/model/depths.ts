/**
 * L2 depths a client may subscribe to. Each depth is its own diff stream, because a client that
 * holds the top 10 must be told which level slides in when one of its 10 leaves, and a client
 * holding 50 must not be (see README, "Order book depth").
 */
export const L2_DEPTHS: readonly number[] = [10, 25, 50, 100, 500];
/** Levels per side mirrored in shared memory: the deepest subscribable depth and REST's limit. */
export const MIRROR_DEPTH = 500;
/** The checksum covers this many levels per side (Kraken v2). */
export const CHECKSUM_DEPTH = 10;
