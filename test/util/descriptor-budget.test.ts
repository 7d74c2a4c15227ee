import t from 'tap';
import { acceptQueueLength, descriptorBudget, FALLBACK_FILE_LIMIT, readFileLimit, unreachableConnections } from '../../src/util/descriptor-budget';
import { loadConfig } from '../../src/config';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63704                63704                processes
Max open files            20000                20000                files
`;

t.test('the open-file limit is read from /proc/self/limits, with a fallback', async (t) => {
  t.equal(readFileLimit(LIMITS), 20000);
  t.equal(readFileLimit('Max open files            unlimited            unlimited            files\n'), Number.MAX_SAFE_INTEGER);
  t.equal(readFileLimit('nothing useful'), FALLBACK_FILE_LIMIT);
  t.ok(readFileLimit() > 0, 'this process has a limit');
});

t.test('the accept queue is one more than uWS\'s backlog of 512, as far as somaxconn allows', async (t) => {
  t.equal(acceptQueueLength('4096\n'), 513);
  t.equal(acceptQueueLength('128\n'), 129);
  t.equal(acceptQueueLength('nonsense'), 513, 'unreadable: the backlog uWS asks for');
  t.ok(acceptQueueLength() >= 2, 'this machine has one');
});

t.test('connections get the open-file limit less a reserve and an accept queue, never all of it', async (t) => {
  t.same(descriptorBudget(20000, 513), { fileLimit: 20000, reserve: 800, acceptQueue: 513, maxConnections: 18687 });
  t.same(descriptorBudget(1024, 513), { fileLimit: 1024, reserve: 128, acceptQueue: 513, maxConnections: 383 });
  t.equal(descriptorBudget(100_000).reserve, 1024);
  const limit = readFileLimit();
  const config = loadConfig([], {});
  t.ok(config.maxConnections < limit, `default max-connections ${config.maxConnections} < file limit ${limit}`);
  t.equal(config.maxConnectionsPerIp, Math.floor(config.maxConnections / 4), 'per address: a quarter');
  const set = loadConfig(['--max-connections', '50'], { BOOKCAST_MAX_CONNECTIONS_PER_IP: '20' });
  t.same([set.maxConnections, set.maxConnectionsPerIp], [50, 20], 'flag and environment');
  t.equal(loadConfig(['--max-connections', '50'], {}).maxConnectionsPerIp, 12, 'per address follows --max-connections');
  t.throws(() => loadConfig(['--max-connections', '0'], {}), { code: 'CONFIG_INVALID' });
});

t.test('a --max-connections the open-file limit cannot hold is named, with what would fix it', async (t) => {
  const budget = descriptorBudget(20000, 513);
  t.equal(unreachableConnections(18687, budget), null, 'the default: nothing to say');
  t.equal(unreachableConnections(50, budget), null);
  t.match(unreachableConnections(18688, budget), /^--max-connections 18688 is more than the open-file limit of 20000 leaves for connections \(18687, .*ulimit -n/);
});
