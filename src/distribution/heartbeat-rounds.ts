import { nowMicros } from '../util/clock';
import type { Session } from './session';

/** The heartbeat timer's period while a round is being served: each tick serves the sessions due by then. */
export const HEARTBEAT_TICK_MS = 2;

/**
 * Every session hears once per period where each of its streams stands, whatever the number of
 * sessions. A round is the sessions present when it starts; it is served in slices spread over
 * the period (by the time a fraction f of the period has passed, a fraction f of the round has
 * been served), so the front thread never stops for many sessions at once: at ~25 µs a session,
 * 19k sessions with a 1 s period make ~40 sessions and ~1 ms a tick. The next round starts one
 * period after this one started, never earlier, so a session (the first of a round, or a lone
 * one) never gets two heartbeats less than a period apart.
 *
 * A parked session (slow-consumer ladder) gets none: its buffer must drain before it resumes.
 *
 * Between rounds the timer sleeps until the next round is due (a period at most when nobody is
 * connected), rather than waking the front thread every tick for nothing: an idle server's
 * front then wakes a few times a second, not 500. Within a round it sleeps until the next
 * session is due, HEARTBEAT_TICK_MS at least: 100 sessions with a 1 s period wake the front 100
 * times a second, not 500. Each wake-up is a turn of the front thread's event loop that the
 * book workers' messages may have to wait behind, and on a machine without a spare core a
 * thread's CPU taken from the book workers and from the clients.
 */
export class HeartbeatRounds {
  private round: Session[] = [];
  private at = 0;
  private startedAt = -Infinity;

  constructor(
    private readonly periodMs: number,
    private readonly sessions: ReadonlySet<Session>,
    /** Wall clock in µs (tests step it). */
    private readonly clock: () => number = nowMicros,
  ) {}

  private timer: NodeJS.Timeout | null = null;

  /** Starts serving rounds on the front thread's event loop, until stop(). */
  start(): void {
    const run = (): void => {
      this.timer = setTimeout(run, this.tick());
    };
    this.timer = setTimeout(run, HEARTBEAT_TICK_MS);
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Serves the sessions due by now; returns the ms until it needs to run again. */
  tick(): number {
    const micros = this.clock();
    const now = micros / 1000;
    if (this.at >= this.round.length) {
      const untilRound = this.startedAt + this.periodMs - now;
      if (untilRound > 0) return sleepMs(untilRound);
      if (this.sessions.size === 0) return this.periodMs;
      this.round = [...this.sessions];
      this.at = 0;
      this.startedAt = now;
    }
    const share = Math.min(1, (now - this.startedAt + HEARTBEAT_TICK_MS) / this.periodMs);
    const due = Math.min(this.round.length, Math.ceil(this.round.length * share));
    for (; this.at < due; this.at++) {
      const session = this.round[this.at];
      if (!session.closed && !session.parked) session.dialect.heartbeat(session, micros);
    }
    // The next round's start, or the moment session `at` is served: once (elapsed + TICK) / period
    // passes at / length (the share above).
    const next = this.at >= this.round.length ? this.startedAt + this.periodMs : this.startedAt + (this.at * this.periodMs) / this.round.length - HEARTBEAT_TICK_MS;
    return sleepMs(next - now);
  }
}

/** A timer's wait for something due in `ms`: the first whole ms past it, HEARTBEAT_TICK_MS at least. */
function sleepMs(ms: number): number {
  return Math.max(HEARTBEAT_TICK_MS, Math.floor(ms) + 1);
}
