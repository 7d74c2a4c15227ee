// The operator panels: /metrics (Prometheus text) and /api/v1/alerts when this server has them,
// /api/v1/health always. A panel whose endpoint does not answer says so and asks again later;
// it never shows made-up figures.

const POLL_MS = 2000;

/** Prometheus text format: [{name, labels, value}] (comments and blank lines skipped). */
export function parsePrometheus(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

const labelText = (labels) => Object.entries(labels).filter(([k]) => k !== 'le').map(([k, v]) => `${k}=${v}`).join(' ');

function rows(el, list) {
  el.replaceChildren(...list.map((text) => Object.assign(document.createElement('div'), { textContent: text })));
}

/** Latency quantiles, message rates (from counters between two scrapes) and connection gauges, by metric name. */
function renderMetrics(el, samples, previous, seconds) {
  const latency = samples.filter((s) => /latency|duration/.test(s.name) && ('quantile' in s.labels));
  const counters = samples.filter((s) => /messages.*_total$/.test(s.name));
  const connections = samples.filter((s) => /connections/.test(s.name) && !s.name.endsWith('_total'));
  const lines = [];
  for (const s of latency.slice(0, 12)) lines.push(`${s.name} ${labelText(s.labels)}: ${s.value}`);
  for (const s of counters.slice(0, 12)) {
    const key = s.name + JSON.stringify(s.labels);
    const before = previous.get(key);
    lines.push(`${s.name} ${labelText(s.labels)}: ${before === undefined || seconds <= 0 ? '…' : ((s.value - before) / seconds).toFixed(1) + '/s'}`);
  }
  for (const s of connections.slice(0, 12)) lines.push(`${s.name} ${labelText(s.labels)}: ${s.value}`);
  rows(el, lines.length > 0 ? lines : ['/metrics answers, with no latency, message or connection series yet']);
}

function renderAlerts(el, body) {
  const list = Array.isArray(body) ? body : body.alerts ?? [];
  const firing = list.filter((a) => (a.state ?? a.status) !== 'resolved');
  if (firing.length === 0) return rows(el, ['no alert firing or pending']);
  el.replaceChildren(...firing.map((a) => {
    const div = document.createElement('div');
    div.className = a.state ?? a.status ?? '';
    div.textContent = `${a.state ?? a.status}: ${a.name ?? a.alert ?? '?'}${a.value === undefined ? '' : ` = ${a.value}`}${a.since ? ` since ${a.since}` : ''}`;
    return div;
  }));
}

/** Polls an endpoint; `render` runs while it answers 200, the panel says what is missing otherwise. */
function poll(url, el, parse, render) {
  const tick = async () => {
    try {
      const res = await fetch(url);
      if (res.status === 200) {
        el.dataset.state = 'live';
        render(await parse(res));
      } else {
        el.dataset.state = 'absent';
        rows(el, [`${url} answers ${res.status}: not served by this server`]);
      }
    } catch (err) {
      el.dataset.state = 'absent';
      rows(el, [`${url} unreachable`]);
    }
    setTimeout(tick, POLL_MS);
  };
  tick();
}

export function startPanels() {
  const previous = new Map();
  let lastScrape = 0;
  poll('/metrics', document.getElementById('metrics'), (res) => res.text(), (text) => {
    const samples = parsePrometheus(text);
    const now = performance.now();
    renderMetrics(document.getElementById('metrics'), samples, previous, (now - lastScrape) / 1000);
    lastScrape = now;
    for (const s of samples) previous.set(s.name + JSON.stringify(s.labels), s.value);
  });
  poll('/api/v1/alerts', document.getElementById('alerts'), (res) => res.json(), (body) => renderAlerts(document.getElementById('alerts'), body));
  poll('/api/v1/health', document.getElementById('health'), (res) => res.json(), (h) => {
    const lines = [`status ${h.status}, up ${h.uptime_s} s`];
    if (h.connections !== undefined) lines.push(`connections: ${JSON.stringify(h.connections)}`);
    if (h.slow_consumer_resyncs !== undefined) lines.push(`slow-consumer resyncs: ${h.slow_consumer_resyncs}`);
    rows(document.getElementById('health'), lines);
  });
}
