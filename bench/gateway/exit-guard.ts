/**
 * Kills what a scenario started if the scenario process ends before its own clean-up runs: on
 * exit (an uncaught exception) and on SIGINT/SIGTERM, which would otherwise end the process
 * without an 'exit' event and leave a server holding thousands of sockets behind. Under the
 * runner the process group goes too; run alone (`node dist/bench/gateway/…`) this is all there is.
 * `kill` must be synchronous and must not throw: SIGKILL, nothing to wait for.
 */
export function guardChildren(kill: () => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    kill();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', kill);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('exit', kill);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
