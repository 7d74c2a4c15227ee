import t from 'tap';
import { TradeCopyEncoder, UsageCopyEncoder } from '../../src/store/copy-encoding';
import type { TradeRecord, UsageRecord } from '../../src/store/store';

/** PostgreSQL's binary COPY read back field by field (int32 length, bytes; -1 is NULL), independently of the encoder. */
function tuples(bytes: Buffer): (Buffer | null)[][] {
  t.equal(bytes.subarray(0, 11).toString('latin1'), 'PGCOPY\n\xff\r\n\0', 'signature');
  let at = 19;
  const out: (Buffer | null)[][] = [];
  for (;;) {
    const fields = bytes.readInt16BE(at);
    at += 2;
    if (fields === -1) break;
    const tuple: (Buffer | null)[] = [];
    for (let f = 0; f < fields; f++) {
      const length = bytes.readInt32BE(at);
      at += 4;
      tuple.push(length === -1 ? null : bytes.subarray(at, at + length));
      if (length > 0) at += length;
    }
    out.push(tuple);
  }
  t.equal(at, bytes.length, 'the trailer ends the payload');
  return out;
}

const utf8 = (field: Buffer | null): string | null => (field === null ? null : field.toString('utf8'));

t.test('text fields: every string as its UTF-8, also past the strings an encoder keeps and on a second encode', (t) => {
  const encoder = new TradeCopyEncoder();
  // More distinct symbols than the encoder keeps (4096), multi-byte ones among them, each twice.
  const symbols = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? `Ü-${i}-✓` : `SYM-${i}`));
  const trades: TradeRecord[] = [...symbols, ...symbols].map((symbol, i) => ({ symbol, sequence: i + 1, tradeId: i + 1, price: 100 + i, size: 1, side: i % 2, makerOrderId: i, time: 1_764_800_000_000_000 + i }));
  for (const pass of [1, 2]) {
    const decoded = tuples(encoder.encode(trades));
    t.same(decoded.map((f) => utf8(f[0])), trades.map((r) => r.symbol), `pass ${pass}: symbols`);
    t.same(decoded.map((f) => f[1]!.readBigInt64BE(0)), trades.map((r) => BigInt(r.sequence)), `pass ${pass}: and the numbers after them`);
  }
  t.end();
});

t.test('usage rows: NULLs and empty strings kept apart, every text in place, short or long', (t) => {
  const encoder = new UsageCopyEncoder();
  const row = (i: number): UsageRecord => ({
    time: 1_764_800_000_000_000 + i, responseTimeMs: 0.5, requestBytes: i, responseBytes: 2 ** 40 + i, status: 200,
    subject: i % 2 === 0 ? 'client-a' : `ip:10.0.0.${i}`, clientId: i % 2 === 0 ? 'client-a' : null, keyId: i % 4 === 0 ? '' : null,
    endpoint: '/api/v1/market/:symbol/orderbook', method: 'GET', userAgent: i % 3 === 0 ? '' : i % 3 === 1 ? `agent é/${i}` : `${'long agent ✓ '.repeat(40)}${i}`, ip: `10.0.0.${i}`,
  });
  const rows = Array.from({ length: 50 }, (_, i) => row(i));
  const decoded = tuples(encoder.encode(rows));
  t.same(
    decoded.map((f) => f.slice(5).map(utf8)),
    rows.map((r) => [r.subject, r.clientId, r.keyId, r.endpoint, r.method, r.userAgent, r.ip]),
  );
  t.same(decoded.map((f) => f[3]!.readBigInt64BE(0)), rows.map((r) => BigInt(r.responseBytes)), 'response bytes past 2^32');
  t.end();
});
