import t from 'tap';
import { loadUws } from '../../src/gateway/uws';
import { peerAddress, PeerAddress, uwsText } from '../../src/gateway/peer-address';
import { clientKey } from '../../src/gateway/connection-limits';

interface Seen {
  peer: PeerAddress;
  uws: string;
}

/** A real uWS app on `host` that records, per request, peerAddress and uWS's own text form. */
async function recordingApp(host: string): Promise<{ port: number; seen: Seen[]; close: () => void }> {
  const uws = loadUws();
  const app = uws.App();
  const seen: Seen[] = [];
  app.get('/*', (res) => {
    seen.push({ peer: peerAddress(res), uws: new TextDecoder().decode(res.getRemoteAddressAsText()) });
    res.end('ok');
  });
  return new Promise((resolve, reject) => {
    app.listen(host, 0, (socket) => {
      if (!socket) return reject(new Error(`uWS could not listen on ${host}`));
      resolve({ port: uws.us_socket_local_port(socket), seen, close: () => uws.us_listen_socket_close(socket) });
    });
  });
}

t.test('an IPv4 peer reads as uWS writes it, keyed as connection limits key it, and the same object on its next request', async (t) => {
  const app = await recordingApp('127.0.0.1');
  t.teardown(app.close);
  for (let i = 0; i < 3; i++) t.equal(await (await fetch(`http://127.0.0.1:${app.port}/`)).text(), 'ok');
  t.equal(app.seen.length, 3);
  for (const s of app.seen) {
    t.equal(s.peer.text, s.uws, 'the text getRemoteAddressAsText gives');
    t.equal(s.peer.key, clientKey(s.uws), 'the connection-limit key of that text');
  }
  t.equal(app.seen[0].peer.text, '127.0.0.1');
  t.equal(app.seen[1].peer, app.seen[0].peer, 'a repeat peer finds its address kept');
  t.equal(app.seen[2].peer, app.seen[0].peer);
});

t.test('on a dual-stack listener, IPv4-mapped and IPv6 peers read as uWS writes them', async (t) => {
  let app: Awaited<ReturnType<typeof recordingApp>>;
  try {
    app = await recordingApp('::');
  } catch {
    t.plan(0, 'no IPv6 on this machine: uWS could not listen on ::');
    return;
  }
  t.teardown(app.close);
  await fetch(`http://127.0.0.1:${app.port}/`);
  await fetch(`http://[::1]:${app.port}/`);
  await fetch(`http://127.0.0.1:${app.port}/`);
  t.equal(app.seen.length, 3);
  for (const s of app.seen) {
    t.equal(s.peer.text, s.uws, `${s.uws}: the text getRemoteAddressAsText gives`);
    t.equal(s.peer.key, clientKey(s.uws), 'the connection-limit key of that text');
  }
  t.equal(app.seen[0].peer.key, '127.0.0.1', 'a mapped IPv4 peer counts as its IPv4 address');
  t.equal(app.seen[2].peer, app.seen[0].peer, 'a repeat mapped peer finds its address kept');
});

t.test('uwsText prints what uWS prints for every byte value', async (t) => {
  t.equal(uwsText(new Uint8Array([10, 0, 255, 7])), '10.0.255.7');
  t.equal(uwsText(new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0, 0x0f])), '2001:0db8:0000:0000:0000:0000:abcd:000f');
  for (let b = 0; b < 256; b++) {
    const bytes = new Uint8Array(16).fill(b);
    const group = b.toString(16).padStart(2, '0').repeat(2);
    if (uwsText(bytes) !== Array(8).fill(group).join(':')) t.fail(`byte ${b}`);
  }
  t.equal(uwsText(new Uint8Array(0)), '', 'no address (a closed socket) is empty, as uWS gives it');
});
