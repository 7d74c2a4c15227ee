import type { EventSink } from '../model/events';
import { nowMicros } from '../util/clock';

/** Where a replay writes: the books' rings, made visible in batches. */
export interface ReplayOutput extends EventSink {
  publish(): void;
}

/** Most events written between publications, so a replay at full speed reaches the books in slices. */
const MAX_BURST = 4096;
/** An event due less than this many µs ahead goes out at once: a sleep would oversleep by more. */
const AHEAD_US = 300;

/**
 * Paces a recording (a LOBSTER file, an input journal) on its own clock scaled by `speed`: the
 * first paced event goes out at once, each later one when its recorded time, measured from the
 * first's and divided by `speed`, has passed on the wall clock; speed 0 sends as fast as the books
 * take it. Events are stamped with the wall-clock time they were due, so downstream latency is
 * measured from when the replay meant to deliver them, like the simulator's (open loop); or, with
 * `originalTime`, with the recorded time, so candles and stored history line up with the recording.
 *
 * While `paced` is false events pass at once, stamped as at speed 0 (a journal replay's lead-in:
 * the events before `--from` only build the books it starts from).
 */
export class ReplayPacer implements EventSink {
  paced = true;
  private startUs = -1;
  private firstUs = 0;
  private unpublished = 0;

  constructor(
    private readonly out: ReplayOutput,
    private readonly speed: number,
    private readonly originalTime: boolean,
    /** Sleeps until about the given wall-clock µs, or less (the caller's thread stays interruptible). */
    private readonly sleepUntil: (us: number) => void,
  ) {}

  event(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number, timestamp: number): void {
    const now = nowMicros();
    let due = now;
    if (this.speed > 0 && this.paced) {
      if (this.startUs < 0) {
        this.startUs = now;
        this.firstUs = timestamp;
      }
      due = Math.floor(this.startUs + (timestamp - this.firstUs) / this.speed);
      if (due > now + AHEAD_US) {
        // What is written so far is due now: the books get it before the replay sleeps.
        this.publish();
        while (due > nowMicros() + AHEAD_US) this.sleepUntil(due);
      }
    }
    this.out.event(kind, symbol, side, orderId, price, size, newOrderId, this.originalTime ? timestamp : due);
    if (++this.unpublished === MAX_BURST) this.publish();
  }

  publish(): void {
    this.unpublished = 0;
    this.out.publish();
  }
}
