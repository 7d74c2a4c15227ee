import { setTimeout as sleep } from 'node:timers/promises';
import { nowMicros } from '../util/clock';
import { CAPTURE_CLOSE, CAPTURE_FRAME, CAPTURE_OPEN, CAPTURE_REST, readCapture } from './capture-file';
import type { FeedQuality } from './feed-quality';
import type { FeedLink, VenueAdapter } from './venue-adapter';

/** Longest single sleep, so a stop request is noticed within it. */
const MAX_SLEEP_MS = 100;

/**
 * The link of a capture being played: what the adapter sends is dropped (the venue's answers are
 * already in the file, in the order they came) and so are its REST requests and reconnects.
 * Replay is faithful because an adapter is deterministic in its input: the same frames make it
 * ask for the same things at the same points.
 */
export class CaptureLink implements FeedLink {
  send(): void {}
  fetch(): void {}
  reconnect(): void {}
}

export interface PlayOptions {
  /** 1 = as recorded, N = N times faster, 0 = as fast as possible. */
  speed: number;
  /** Stamp events with the recorded receive times (true) or the time they are played (false). */
  originalTime: boolean;
  quality: FeedQuality;
  /** After each record the adapter handled: make its events visible. */
  afterInput: () => void;
  /** Polled between records: true ends the playback early. */
  stopRequested: () => boolean;
}

/** Plays a capture through `adapter`; resolves with the records played when the file ends. */
export async function playCapture(path: string, adapter: VenueAdapter, options: PlayOptions): Promise<number> {
  let firstRecorded = NaN;
  let startedUs = 0;
  let played = 0;
  for await (const record of readCapture(path)) {
    if (options.stopRequested()) break;
    if (options.speed > 0) {
      if (Number.isNaN(firstRecorded)) {
        firstRecorded = record.receivedUs;
        startedUs = nowMicros();
      }
      const dueUs = startedUs + (record.receivedUs - firstRecorded) / options.speed;
      for (let wait = dueUs - nowMicros(); wait > 1000 && !options.stopRequested(); wait = dueUs - nowMicros()) {
        await sleep(Math.min(wait / 1000, MAX_SLEEP_MS));
      }
    }
    const at = options.originalTime ? record.receivedUs : nowMicros();
    if (record.type === CAPTURE_FRAME) {
      options.quality.frame();
      adapter.onFrame(record.text, at);
    } else if (record.type === CAPTURE_OPEN) {
      options.quality.connected(true);
      adapter.onOpen(at);
    } else if (record.type === CAPTURE_CLOSE) {
      options.quality.connected(false);
      adapter.onClose();
    } else if (record.type === CAPTURE_REST) {
      const rest = JSON.parse(record.text) as { path: string; status: number; body: string };
      adapter.onRest(rest.path, rest.status, rest.body, at);
    }
    options.afterInput();
    played++;
  }
  options.quality.connected(false);
  return played;
}
