import t from 'tap';
import { readFileSync } from 'node:fs';
import { systemUser } from './private-postgres';

t.test('the postgres user is looked up, not assumed', async (t) => {
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((f) => f[0] === 'postgres');
  if (entry === undefined) {
    t.plan(0, 'no postgres system user on this machine');
    return;
  }
  t.same(systemUser('postgres'), { uid: Number(entry[2]), gid: Number(entry[3]) });
  t.throws(() => systemUser('no-such-user-bookcast'), 'an unknown user is an error, not a guess');
});
