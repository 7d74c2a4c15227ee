// A verified L2 book for the page: the same rules as the SDK (src/client/l2-book.ts), kept small
// because the SDK is compiled to CommonJS for Node and the page runs plain ES modules.

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

function crc32(text) {
  let state = -1;
  for (let i = 0; i < text.length; i++) state = TABLE[(state ^ text.charCodeAt(i)) & 0xff] ^ (state >>> 8);
  return (state ^ -1) >>> 0;
}

const digits = (d) => d.replace('.', '').replace(/^0+/, '');

/** Kraken v2 checksum of the top 10 (README, sequences and checksums). */
export function bookChecksum(bids, asks) {
  let text = '';
  for (const [p, s] of asks.slice(0, 10)) text += digits(p) + digits(s);
  for (const [p, s] of bids.slice(0, 10)) text += digits(p) + digits(s);
  return crc32(text);
}

function setLevel(levels, price, size, descending) {
  const key = Number(price);
  let i = 0;
  while (i < levels.length && (descending ? Number(levels[i][0]) > key : Number(levels[i][0]) < key)) i++;
  const found = i < levels.length && Number(levels[i][0]) === key;
  if (Number(size) === 0) { if (found) levels.splice(i, 1); }
  else if (found) levels[i] = [price, size];
  else levels.splice(i, 0, [price, size]);
}

/** Applies l2_snapshot / l2_update messages; returns 'ok', 'gap' or 'checksum'. */
export class L2Book {
  constructor() { this.bids = []; this.asks = []; this.sequence = -1; this.fresh = true; }

  apply(m) {
    if (m.type === 'l2_snapshot') {
      this.bids = []; this.asks = [];
      this.sequence = m.sequence; this.fresh = true;
    } else {
      const ok = this.sequence >= 0 && (this.fresh ? m.prev_sequence <= this.sequence && m.sequence > this.sequence : m.prev_sequence === this.sequence);
      if (!ok) return 'gap';
      this.sequence = m.sequence; this.fresh = false;
    }
    for (const [p, s] of m.data.bids) setLevel(this.bids, p, s, true);
    for (const [p, s] of m.data.asks) setLevel(this.asks, p, s, false);
    return bookChecksum(this.bids, this.asks) === m.checksum ? 'ok' : 'checksum';
  }
}
