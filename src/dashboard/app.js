// The live page: one JSON WebSocket to /ws, every L2 message verified (sequence and checksum)
// before the ladder shows it; a gap or a bad checksum asks for a fresh snapshot.
import { createChart, CandlestickSeries } from '/dashboard/lightweight-charts.mjs';
import { L2Book } from '/dashboard/book.js';
import { startPanels } from '/dashboard/panels.js';

const DEPTH = 25;
const LADDER_ROWS = 10;
const TAPE_ROWS = 30;
/** Book states kept by sequence for comparing the page with a REST snapshot (tests, and anyone curious). */
const HISTORY = 5000;

const $ = (id) => document.getElementById(id);
const state = { symbol: '', book: new L2Book(), resyncing: false, verified: 0, resyncs: 0, history: [], dirty: false, socket: null, attempt: 0 };

// What the page showed at each sequence: [sequence, best bid, best ask].
window.bookcastDashboard = {
  stateAt(sequence) {
    let best;
    for (const entry of state.history) if (entry[0] <= sequence) best = entry;
    return best === undefined ? undefined : { sequence: best[0], bid: best[1], ask: best[2] };
  },
  get symbol() { return state.symbol; },
};

const chart = createChart($('candles'), {
  layout: { background: { color: '#181e27' }, textColor: '#d8dee9' },
  grid: { vertLines: { color: '#222a35' }, horzLines: { color: '#222a35' } },
  timeScale: { timeVisible: true, secondsVisible: false },
  autoSize: true,
});
const candles = chart.addSeries(CandlestickSeries, {});

const bar = (c) => ({ time: Date.parse(c.start) / 1000, open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close) });

async function loadHistory(symbol) {
  const path = encodeURIComponent(symbol);
  const [c, t] = await Promise.all([
    fetch(`/api/v1/market/${path}/candles?interval=1m`).then((r) => r.json()),
    fetch(`/api/v1/market/${path}/trades?limit=${TAPE_ROWS}`).then((r) => r.json()),
  ]);
  if (symbol !== state.symbol) return;
  candles.setData((c.candles ?? []).filter((x) => x.open !== null).map(bar));
  $('trades').tBodies[0].replaceChildren(...(t.trades ?? []).map(tradeRow));
}

function tradeRow(t) {
  const tr = document.createElement('tr');
  tr.className = t.side;
  for (const text of [t.timestamp.slice(11, 23), t.price, t.size, t.side]) tr.appendChild(Object.assign(document.createElement('td'), { textContent: text }));
  return tr;
}

function send(message) {
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(message));
}

function subscribe(symbol) {
  send({ type: 'subscribe', channels: ['l2'], symbols: [symbol], depth: DEPTH });
  send({ type: 'subscribe', channels: ['trades', 'candles'], symbols: [symbol], interval: '1m' });
}

function select(symbol) {
  if (state.symbol !== '') send({ type: 'unsubscribe', channels: ['l2', 'trades', 'candles'], symbols: [state.symbol] });
  state.symbol = symbol;
  state.book = new L2Book();
  state.history = [];
  state.resyncing = true;
  subscribe(symbol);
  loadHistory(symbol);
}

function onBook(m) {
  if (m.type === 'l2_update' && state.resyncing) return;
  const result = state.book.apply(m);
  if (result !== 'ok') {
    state.resyncs++;
    state.resyncing = true;
    send({ type: 'subscribe', channels: ['l2'], symbols: [state.symbol], depth: DEPTH });
    return;
  }
  state.resyncing = false;
  state.verified++;
  const b = state.book;
  state.history.push([b.sequence, b.bids[0]?.[0] ?? null, b.asks[0]?.[0] ?? null]);
  if (state.history.length > HISTORY) state.history.splice(0, state.history.length - HISTORY);
  state.dirty = true;
}

function onMessage(event) {
  const m = JSON.parse(event.data);
  if (m.symbol !== undefined && m.symbol !== state.symbol) return;
  if (m.type === 'l2_snapshot' || m.type === 'l2_update') onBook(m);
  else if (m.type === 'trade') {
    const body = $('trades').tBodies[0];
    body.prepend(tradeRow({ ...m.data, timestamp: m.timestamp }));
    while (body.rows.length > TAPE_ROWS) body.deleteRow(-1);
  } else if (m.type === 'candle' && m.data.open !== null) {
    try { candles.update(bar(m.data)); } catch { /* an older candle than the chart's last: already drawn */ }
  } else if (m.type === 'error') {
    $('status').textContent = `${m.data.code}: ${m.data.message}`;
  }
}

function connect() {
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  state.socket = socket;
  socket.onopen = () => {
    state.attempt = 0;
    $('status').textContent = 'live';
    $('status').className = 'ok';
    state.resyncing = true;
    if (state.symbol !== '') subscribe(state.symbol);
  };
  socket.onmessage = onMessage;
  socket.onclose = () => {
    $('status').textContent = 'disconnected, reconnecting…';
    $('status').className = 'bad';
    // Full jitter, as the SDK (src/client/backoff.ts).
    const delay = Math.random() * Math.min(10_000, 250 * 2 ** state.attempt++);
    setTimeout(connect, delay);
  };
}

function render() {
  requestAnimationFrame(render);
  if (!state.dirty) return;
  state.dirty = false;
  const b = state.book;
  $('sequence').textContent = `sequence ${b.sequence}`;
  $('sequence').dataset.sequence = String(b.sequence);
  $('best-bid').textContent = b.bids[0]?.[0] ?? '–';
  $('best-ask').textContent = b.asks[0]?.[0] ?? '–';
  $('verified').textContent = `${state.verified} verified, ${state.resyncs} resyncs`;
  $('verified').dataset.verified = String(state.verified);
  $('verified').dataset.resyncs = String(state.resyncs);
  const rows = [];
  for (let i = LADDER_ROWS - 1; i >= 0; i--) if (b.asks[i]) rows.push(['', b.asks[i][0], b.asks[i][1], 'ask']);
  for (let i = 0; i < LADDER_ROWS; i++) if (b.bids[i]) rows.push([b.bids[i][1], b.bids[i][0], '', 'bid']);
  $('ladder').tBodies[0].replaceChildren(...rows.map(([bidSize, price, askSize, side]) => {
    const tr = document.createElement('tr');
    tr.className = side;
    for (const text of [bidSize, price, askSize]) tr.appendChild(Object.assign(document.createElement('td'), { textContent: text }));
    return tr;
  }));
  drawDepth(b);
}

/** Cumulative size against price, bids left of the mid, asks right. */
function drawDepth(b) {
  const canvas = $('depth');
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  if (b.bids.length === 0 || b.asks.length === 0) return;
  const cumulative = (levels) => { let sum = 0; return levels.map(([p, s]) => [Number(p), (sum += Number(s))]); };
  const bids = cumulative(b.bids);
  const asks = cumulative(b.asks);
  const low = bids[bids.length - 1][0];
  const high = asks[asks.length - 1][0];
  const most = Math.max(bids[bids.length - 1][1], asks[asks.length - 1][1]);
  const x = (p) => ((p - low) / (high - low || 1)) * canvas.width;
  const y = (s) => canvas.height - (s / most) * (canvas.height - 10);
  for (const [side, color] of [[bids, '#4fc88a'], [asks, '#e0626a']]) {
    g.beginPath();
    g.moveTo(x(side[0][0]), canvas.height);
    for (const [p, s] of side) g.lineTo(x(p), y(s));
    g.lineTo(x(side[side.length - 1][0]), canvas.height);
    g.fillStyle = color + '55';
    g.strokeStyle = color;
    g.fill();
    g.stroke();
  }
}

async function start() {
  const { symbols } = await (await fetch('/api/v1/market/symbols')).json();
  const picker = $('symbol');
  picker.replaceChildren(...symbols.map((s) => Object.assign(document.createElement('option'), { value: s.symbol, textContent: s.symbol })));
  const asked = new URLSearchParams(location.search).get('symbol');
  const first = symbols.find((s) => s.symbol === asked || s.symbol.replace('/', '-') === asked)?.symbol ?? symbols[0]?.symbol ?? '';
  picker.value = first;
  picker.onchange = () => select(picker.value);
  connect();
  state.socket.addEventListener('open', () => { if (state.symbol === '') select(first); }, { once: true });
  requestAnimationFrame(render);
  startPanels();
}

start();
