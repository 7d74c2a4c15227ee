import * as hdr from 'hdr-histogram-js';

export interface ScrapeTimes {
  scrapes: number;
  /** Milliseconds from the request to the whole body received. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Size of the last body. */
  bytes: number;
}

/** GETs `${http}/metrics` every `everyMs` until stopped; times each whole answer. */
export function scrapeTimes(http: string, everyMs: number): { stop(): Promise<ScrapeTimes> } {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let bytes = 0;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const once = async () => {
    const started = performance.now();
    const body = await (await fetch(`${http}/metrics`)).text();
    histogram.recordValue(Math.round((performance.now() - started) * 1000));
    bytes = body.length;
  };
  const timer = setInterval(() => {
    if (!stopped) inFlight = inFlight.then(once);
  }, everyMs);
  let result: Promise<ScrapeTimes> | null = null;
  return {
    stop() {
      if (result === null) {
        stopped = true;
        clearInterval(timer);
        result = inFlight.then(() => summary(histogram, bytes));
      }
      return result;
    },
  };
}

/** Times `count` scrapes one after the other. */
export async function scrapeSeries(http: string, count: number): Promise<ScrapeTimes> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    bytes = (await (await fetch(`${http}/metrics`)).text()).length;
    histogram.recordValue(Math.round((performance.now() - started) * 1000));
  }
  return summary(histogram, bytes);
}

function summary(h: hdr.Histogram, bytes: number): ScrapeTimes {
  const ms = (us: number) => Math.round(us) / 1000;
  return { scrapes: h.totalCount, p50Ms: ms(h.getValueAtPercentile(50)), p99Ms: ms(h.getValueAtPercentile(99)), maxMs: ms(h.maxValue), bytes };
}
