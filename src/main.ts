/**
 * Entry point of `npm start` and of the `bookcast` bin: `bookcast [start] [options]` runs the
 * feed; `bookcast replay …` rebuilds the books of a recording (a LOBSTER file, an input journal)
 * and prints them, or with --serve re-publishes a journal as a feed; `bookcast edge --redis-url …` serves a primary's books from its replication stream; `bookcast standby …` takes over from it; `bookcast record …` captures an
 * exchange feed's traffic into a file that `--source capture:<file>` plays back; `bookcast
 * clients|keys|audit|signing-keys …` administer access control (cli/auth-commands.ts).
 */
import { startCommand } from './cli/start-command';
import { replayCommand } from './cli/replay-command';
import { recordCommand } from './cli/record-command';
import { log } from './util/log';
import { AUTH_COMMANDS, authCommand } from './cli/auth-commands';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'replay') return replayCommand(rest);
  if (command === 'record') return recordCommand(rest);
  if (command === 'start') return startCommand(rest);
  // An edge is a server whose source is the primary's replication stream (src/edge/).
  if (command === 'edge') return startCommand(['--source', 'follow', ...rest]);
  // A standby follows like an edge and becomes the ingest primary when the lease lapses (app/replication.ts).
  if (command === 'standby') return startCommand(['--source', 'standby', ...rest]);
  if (AUTH_COMMANDS.includes(command)) return authCommand(command, rest);
  return startCommand(argv);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    log.fatal({ err }, 'bookcast stopped on an unexpected error');
    process.exit(1);
  },
);
