const BATCH = 1_000_000;

/**
 * CPU ns and heap bytes per call of `call`, in this thread: after a warm-up (the JIT settles),
 * calls in batches of a million for `seconds`, CPU time from process.cpuUsage; heap bytes from
 * heapBytesPerCall.
 */
export function measure(call: () => void, seconds: number): { nsPerMessage: number; heapBytesPerMessage: number } {
  for (let i = 0; i < 200_000; i++) call(); // warm-up: optimised code before timing
  let calls = 0;
  const deadline = performance.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  while (performance.now() < deadline) {
    for (let i = 0; i < BATCH; i++) call();
    calls += BATCH;
  }
  const cpu = process.cpuUsage(cpu0);
  return { nsPerMessage: Math.round((((cpu.user + cpu.system) * 1000) / calls) * 10) / 10, heapBytesPerMessage: Math.round(heapBytesPerCall(call) * 10) / 10 };
}

/** Heap bytes per call of `call`: the median over 21 rounds of 10,000 calls, a round a collection crossed left out (NaN if all were). */
export function heapBytesPerCall(call: () => void): number {
  const deltas: number[] = [];
  for (let round = 0; round < 21; round++) {
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 10_000; i++) call();
    const delta = process.memoryUsage().heapUsed - before;
    if (delta >= 0) deltas.push(delta / 10_000);
  }
  deltas.sort((a, b) => a - b);
  return deltas.length === 0 ? NaN : deltas[deltas.length >> 1];
}
