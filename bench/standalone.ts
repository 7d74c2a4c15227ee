/**
 * Every scenario file also runs alone (after tsc): `node dist/bench/<folder>/<scenario>.js
 * [seconds] [--full]` prints its result as JSON, as the runner would record it, without the
 * runner's process isolation and CPU accounting.
 */
export function runStandalone(run: (opts: { seconds: number; full: boolean }) => Promise<unknown>, defaultSeconds: number): void {
  const seconds = Number(process.argv[2] ?? defaultSeconds);
  run({ seconds, full: process.argv.includes('--full') }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

/** The value after `name` on the command line (`--against /work/base`), or undefined. */
export function commandOption(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
}
