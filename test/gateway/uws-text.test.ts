import t from 'tap';
import { contentType, statusLine, statusOf, text, textBytes } from '../../src/gateway/uws-text';
import { RequestCopy } from '../../src/gateway/request-copy';
import type { HttpRequest } from 'uWebSockets.js';

t.test('status lines are bytes that name their status, and any line reads back its code', async (t) => {
  for (const status of [200, 201, 400, 401, 403, 404, 405, 409, 413, 429, 500, 503]) {
    const line = statusLine(status);
    t.type(line, ArrayBuffer, `${status} is bytes made once`);
    t.equal(statusLine(status), line, 'the same bytes every time');
    t.match(text(line), new RegExp(`^${status} [A-Z]`), 'its text starts with the code and a name');
    t.equal(statusOf(line), status);
  }
  t.equal(statusLine(418), '418 Error', 'a status without a name here');
  t.equal(statusOf('418 Error'), 418);
  t.equal(statusOf('201 Created'), 201, 'a line written as text');
  t.equal(statusOf(textBytes('302 Found')), 302, 'a line written as other bytes');
  t.equal(statusOf(new Uint16Array(textBytes('204 No Content!').buffer, 0, 7)), 204, 'a view of another width reads its bytes');
  t.equal(statusOf('OK'), 200, 'no code: 200, as uWS sends when no status is written');
});

t.test('content types become bytes once each, and read back as written', async (t) => {
  const json = contentType('application/json');
  t.type(json, ArrayBuffer);
  t.equal(contentType('application/json'), json, 'kept');
  t.equal(text(json), 'application/json');
  for (let i = 0; i < 100; i++) contentType(`text/x-test-${i}`);
  t.equal(contentType('text/x-one-too-many'), 'text/x-one-too-many', 'past the bound, the text is passed as it is');
  t.equal(contentType('application/json'), json, 'what was kept stays');
});

t.test('a request copy answers a header asked for by bytes as by name', async (t) => {
  const headers: [string, string][] = [['user-agent', 'bench'], ['x-api-key', 'k1']];
  const req = {
    getUrl: () => '/x',
    getMethod: () => 'get',
    getQuery: () => '',
    getParameter: () => '',
    forEach: (cb: (k: string, v: string) => void) => headers.forEach(([k, v]) => cb(k, v)),
  } as unknown as HttpRequest;
  const copy = new RequestCopy(req, 0);
  t.equal(copy.getHeader(textBytes('x-api-key')), 'k1');
  t.equal(copy.getHeader('user-agent'), 'bench');
  t.equal(copy.getHeader(textBytes('authorization')), '', 'absent: empty, as uWS answers');
});
