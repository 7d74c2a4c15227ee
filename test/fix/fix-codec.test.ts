import t from 'tap';
import { field, fixBody, FixParser, frame, PARSE_GARBLED, PARSE_MESSAGE, PARSE_NEED_MORE, PARSE_TOO_LARGE, utcTimestamp } from '../../src/fix/fix-codec';
import { encodeFix } from '../helpers/fix-raw';

const latin1 = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

t.test('frame writes BodyLength and CheckSum as an independent encoder does', async (t) => {
  const header = '35=X\x0149=BOOKCAST\x0156=CLIENT\x0134=12\x0152=20261202-13:00:00.000\x01';
  const body = fixBody(field(268, 1) + field(279, 0) + field(269, 2) + field(270, '67000.1'));
  const expected = encodeFix('X', [[49, 'BOOKCAST'], [56, 'CLIENT'], [34, 12], [52, '20261202-13:00:00.000'], [268, 1], [279, 0], [269, 2], [270, '67000.1']]);
  t.equal(text(frame(header, body)), expected);
  // The same body framed for another session: only the header differs.
  const other = text(frame(header.replace('CLIENT', 'OTHER-CLIENT'), body));
  t.equal(other, encodeFix('X', [[49, 'BOOKCAST'], [56, 'OTHER-CLIENT'], [34, 12], [52, '20261202-13:00:00.000'], [268, 1], [279, 0], [269, 2], [270, '67000.1']]));
});

t.test('the parser reads messages in any split, with fields and repeating groups in order', async (t) => {
  const a = encodeFix('V', [[49, 'C'], [56, 'B'], [34, 2], [262, 'r1'], [267, 2], [269, 0], [269, 1], [146, 2], [55, 'BTC/USD'], [55, 'ETH/USD']]);
  const b = encodeFix('0', [[49, 'C'], [56, 'B'], [34, 3]]);
  const all = a + b;
  for (let cut = 0; cut <= all.length; cut += 7) {
    const p = new FixParser(4096);
    p.push(latin1(all.slice(0, cut)));
    const got: string[] = [];
    let r: number;
    while ((r = p.next()) === PARSE_MESSAGE) got.push(p.message!.msgType);
    t.equal(r, PARSE_NEED_MORE);
    p.push(latin1(all.slice(cut)));
    while (p.next() === PARSE_MESSAGE) got.push(p.message!.msgType);
    t.same(got, ['V', '0'], `cut at ${cut}`);
  }
  const p = new FixParser(4096);
  p.push(latin1(a));
  t.equal(p.next(), PARSE_MESSAGE);
  const m = p.message!;
  t.same(m.all(269), ['0', '1']);
  t.same(m.all(55), ['BTC/USD', 'ETH/USD']);
  t.equal(m.get(262), 'r1');
  t.equal(m.get(999), undefined);
});

t.test('a wrong CheckSum or BodyLength is garbled and skipped to the next message', async (t) => {
  const good = encodeFix('1', [[34, 5], [112, 'ok']]);
  const badSum = good.replace(/10=(\d{3})\x01$/, (_m, d) => `10=${String((Number(d) + 1) % 256).padStart(3, '0')}\x01`);
  const badLength = good.replace(/9=(\d+)/, (_m, n) => `9=${Number(n) - 2}`);
  for (const [name, bad] of [['checksum', badSum], ['body length', badLength], ['garbage', '\x00\xffHELLO 8=FIX']] as const) {
    const p = new FixParser(4096);
    p.push(latin1(bad + good));
    let r: number;
    let garbled = 0;
    while ((r = p.next()) === PARSE_GARBLED) garbled++;
    t.ok(garbled >= 1, `${name}: garbled (${p.reason || 'skipped'})`);
    t.equal(r, PARSE_MESSAGE, `${name}: the next good message is read`);
    t.equal(p.message!.get(112), 'ok');
  }
});

t.test('size limits: a stated BodyLength past the limit, and a buffer that never completes a message', async (t) => {
  const p = new FixParser(256);
  p.push(latin1('8=FIX.4.4\x019=300'));
  t.equal(p.next(), PARSE_TOO_LARGE, 'the stated length alone is enough');
  const q = new FixParser(256);
  q.push(latin1(encodeFix('1', [[112, 'x'.repeat(300)]])));
  t.equal(q.next(), PARSE_TOO_LARGE);
  const r = new FixParser(256);
  r.push(latin1('8=FIX.4.4\x019=20\x01' + '35=0\x01'));
  t.equal(r.next(), PARSE_NEED_MORE, 'a message still arriving is waited for');
  const g = new FixParser(256);
  g.push(latin1('z'.repeat(10000)));
  while (g.next() === PARSE_GARBLED);
  t.ok(g.pending < 16, `garbage is not kept (${g.pending} bytes held)`);
});

t.test('fields that are not tag=value, or a first field other than MsgType, are garbled', async (t) => {
  for (const body of ['35=0\x01abc\x01', '34=1\x0135=0\x01', '35=0\x01=1\x01', '35=\x01']) {
    const head = `8=FIX.4.4\x019=${body.length}\x01` + body;
    let sum = 0;
    for (const c of Buffer.from(head, 'latin1')) sum += c;
    const p = new FixParser(4096);
    p.push(latin1(head + `10=${String(sum % 256).padStart(3, '0')}\x01`));
    t.equal(p.next(), PARSE_GARBLED, JSON.stringify(body));
  }
});

t.test('UTCTimestamp with milliseconds', async (t) => {
  t.equal(utcTimestamp(Date.UTC(2026, 11, 2, 13, 5, 9, 42)), '20261202-13:05:09.042');
});
