import t from 'tap';
import { CredentialSweep } from '../../src/gateway/credential-sweep';
import { waitFor } from '../helpers/test-server';

t.test('the sweep runs only while some connection has an expiry', async (t) => {
  let expiring = 2;
  let sweeps = 0;
  const sweep = new CredentialSweep(() => {
    sweeps++;
    return expiring;
  }, 5);
  t.teardown(() => sweep.stop());
  t.notOk(sweep.armed, 'no timer before any connection has an expiry');
  sweep.arm();
  sweep.arm();
  t.ok(sweep.armed, 'armed by a connection with an expiry (once, however often asked)');
  await waitFor('two sweeps', () => sweeps >= 2);
  expiring = 0;
  await waitFor('the timer to stop once no connection has an expiry', () => !sweep.armed);
  const after = sweeps;
  expiring = 1;
  sweep.arm();
  await waitFor('a sweep after arming again', () => sweeps > after);
  sweep.stop();
  t.notOk(sweep.armed, 'stopped');
  sweep.arm();
  t.notOk(sweep.armed, 'a stopped sweep is not armed again');
});
