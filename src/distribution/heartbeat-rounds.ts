import { nowMicros } from '../util/clock';
import type { Session } from './session';

/** The heartbeat timer's period: each tick serves the sessions due by then. */
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
 */
export class HeartbeatRounds {
  private round: Session[] = [];
  private at = 0;
  private startedAt = -Infinity;

  constructor(
    private readonly periodMs: number,
    private readonly sessions: ReadonlySet<Session>,
  ) {}

  /** Called every HEARTBEAT_TICK_MS. */
  tick(): void {
    const micros = nowMicros();
    const now = micros / 1000;
    if (this.at >= this.round.length) {
      if (now - this.startedAt < this.periodMs || this.sessions.size === 0) return;
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
  }
}
