/**
 * Entry point of `npm start` and of the `bookcast` bin: `bookcast [start] [options]` runs the
 * feed; `bookcast replay …` rebuilds a book from a recorded file and prints it.
 */
import { startCommand } from './cli/start-command';
import { replayCommand } from './cli/replay-command';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'replay') return replayCommand(rest);
  if (command === 'start') return startCommand(rest);
  return startCommand(argv);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
