/**
 * bookcast's client SDK (`bookcast/client`): a feed connection that keeps verified L2 and L3
 * books, recovers from gaps and lost connections by itself, and emits typed events.
 */
export { BookcastClient } from './bookcast-client';
export type { ClientEvents, ClientOptions, Dialect, Resync, Subscription } from './bookcast-client';
export { L2Book } from './l2-book';
export type { ApplyResult } from './l2-book';
export { L3Book } from './l3-book';
export type { RestingOrder } from './l3-book';
export { bookChecksum } from './book-checksum';
export { Backoff } from './backoff';
export type * from './messages';
