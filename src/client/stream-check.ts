/**
 * The sequence rule of one stream (README, sequences and checksums): after a snapshot at S the
 * first update has prev_sequence ≤ S < sequence; after that each update's prev_sequence is the
 * previous update's sequence. Anything else is a gap.
 */
export class StreamCheck {
  /** The sequence the local copy reflects; -1 before the first snapshot. */
  sequence = -1;
  private fresh = true;

  snapshot(sequence: number): void {
    this.sequence = sequence;
    this.fresh = true;
  }

  /** Accepts the update and returns true, or returns false (a gap) and leaves the state as it was. */
  update(sequence: number, prev: number): boolean {
    if (this.sequence < 0) return false;
    const ok = this.fresh ? prev <= this.sequence && sequence > this.sequence : prev === this.sequence && sequence > prev;
    if (!ok) return false;
    this.sequence = sequence;
    this.fresh = false;
    return true;
  }
}
