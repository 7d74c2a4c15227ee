import { authCommand } from '../../src/cli/auth-commands';
import { seedDataDir } from './pglite-template';

/** Runs a `bookcast auth` command with `--json` in this process and returns what it printed. */
export async function cliJson(command: string, args: string[]): Promise<any> {
  await seedDataDir(args);
  const lines: string[] = [];
  const code = await authCommand(command, [...args, '--json'], (l) => lines.push(l));
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}`);
  return JSON.parse(lines[0]);
}
