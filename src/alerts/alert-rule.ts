/**
 * One alert's state, as Prometheus keeps it: `inactive` (never fired), `pending` (the condition
 * holds, not yet for `forMs`), `firing`, `resolved` (it fired, and the condition no longer
 * holds). A pending condition that clears goes back to what it was before (inactive or resolved):
 * it never fired this time.
 */
export type AlertState = 'inactive' | 'pending' | 'firing' | 'resolved';

/** A state change, for the log. */
export type AlertTransition = 'pending' | 'firing' | 'resolved' | null;

export class AlertRule {
  state: AlertState = 'inactive';
  /** The last evaluated value (null: nothing to measure, e.g. no message in the window). */
  value: number | null = null;
  detail = '';
  /** When the condition began to hold (pending and firing); ms since the epoch. */
  activeAt: number | null = null;
  firedAt: number | null = null;
  resolvedAt: number | null = null;

  constructor(
    readonly name: string,
    readonly summary: string,
    readonly threshold: number,
    readonly unit: string,
    /** `above`: fires when value > threshold; `below`: when value < threshold. */
    readonly direction: 'above' | 'below',
    readonly forMs: number,
  ) {}

  /** One evaluation at `now` (ms); returns the transition it made, if any. */
  evaluate(value: number | null, detail: string, now: number): AlertTransition {
    this.value = value;
    this.detail = detail;
    const holds = value !== null && (this.direction === 'above' ? value > this.threshold : value < this.threshold);
    if (holds) {
      let transition: AlertTransition = null;
      if (this.state !== 'pending' && this.state !== 'firing') {
        this.state = 'pending';
        this.activeAt = now;
        transition = 'pending';
      }
      if (this.state === 'pending' && now - this.activeAt! >= this.forMs) {
        this.state = 'firing';
        this.firedAt = now;
        transition = 'firing';
      }
      return transition;
    }
    this.activeAt = null;
    if (this.state === 'firing') {
      this.state = 'resolved';
      this.resolvedAt = now;
      return 'resolved';
    }
    if (this.state === 'pending') this.state = this.resolvedAt === null ? 'inactive' : 'resolved';
    return null;
  }

  /** When the current state began (null: inactive since start). */
  since(): number | null {
    if (this.state === 'pending') return this.activeAt;
    if (this.state === 'firing') return this.firedAt;
    if (this.state === 'resolved') return this.resolvedAt;
    return null;
  }
}
