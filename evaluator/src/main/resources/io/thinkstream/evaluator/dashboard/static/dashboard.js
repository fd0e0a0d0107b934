// The thinkstream dashboard: one snapshot from /api/state, then live updates from /events (SSE).
'use strict';

const METRICS = [
  { key: 'greedyPass1', name: 'greedy pass@1', color: '#2f6fdf' },
  { key: 'majK', name: 'maj@k', color: '#e8760b' },
  { key: 'passK', name: 'pass@k', color: '#1a9c5b' },
];
const SUITE_DASH = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
const KIND_COLORS = ['#2f6fdf', '#e8760b', '#1a9c5b', '#b03fc4', '#c0392b', '#7d8a99'];

const dashboard = window.dashboard = { charts: {}, loadedAt: Date.now(), events: 0, evaluations: new Map(), bucketMs: 10000 };
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

Chart.defaults.animation = false;
Chart.defaults.font.size = 12;
Chart.defaults.color = '#3b4452';
Chart.defaults.plugins.legend.labels.boxWidth = 18;
Chart.defaults.plugins.legend.labels.boxHeight = 2;

function axis(title, extra) {
  return Object.assign({ title: { display: true, text: title, font: { weight: '600' } }, grid: { color: '#eceff3' } }, extra || {});
}

function makeCharts() {
  const c = dashboard.charts;
  c.accuracy = new Chart(document.getElementById('chart-accuracy'), {
    type: 'line', data: { datasets: [] },
    options: {
      maintainAspectRatio: false, parsing: false,
      scales: { x: axis('checkpoint version', { type: 'linear', ticks: { precision: 0 } }),
                y: axis('accuracy (%)', { min: 0, max: 100 }) },
      plugins: { legend: { position: 'right' },
                 tooltip: { callbacks: { label: i => `${i.dataset.label}: ${i.parsed.y.toFixed(1)} % (v${i.parsed.x})` } } },
    },
  });
  c.lag = new Chart(document.getElementById('chart-lag'), {
    type: 'bar', data: { labels: [], datasets: [{ label: 'lag (records)', data: [], backgroundColor: '#7d8a99', minBarLength: 2 }] },
    options: { maintainAspectRatio: false, indexAxis: 'y',
               scales: { x: axis('lag (records behind the end offset)', { beginAtZero: true, suggestedMax: 10, ticks: { precision: 0 } }),
                         y: { grid: { display: false } } },
               plugins: { legend: { display: false },
                          tooltip: { callbacks: { label: i => `${i.parsed.x} records behind` } } } },
  });
  c.rates = new Chart(document.getElementById('chart-rates'), {
    type: 'line', data: { datasets: [] },
    options: { maintainAspectRatio: false, parsing: false,
               scales: { x: axis('record time', { type: 'linear', ticks: { callback: v => timeFmt.format(new Date(v)), maxTicksLimit: 6 } }),
                         y: axis('records / s', { beginAtZero: true }) },
               plugins: { legend: { position: 'bottom' },
                          tooltip: { callbacks: { title: items => timeFmt.format(new Date(items[0].parsed.x)) } } } },
  });
  c.diversity = new Chart(document.getElementById('chart-diversity'), {
    type: 'line', data: { datasets: [] },
    options: { maintainAspectRatio: false, parsing: false,
               scales: { x: axis('checkpoint version', { type: 'linear', ticks: { precision: 0 } }),
                         y: axis('distinct correct paths / problem', { beginAtZero: true }) },
               plugins: { legend: { position: 'bottom' } } },
  });
  c.strategy = new Chart(document.getElementById('chart-strategy'), {
    type: 'bar', data: { labels: [], datasets: [] },
    options: { maintainAspectRatio: false,
               scales: { x: axis('strategy tag', { type: 'category' }),
                         y: axis('accuracy (%)', { min: 0, max: 100, position: 'left' }),
                         tokens: axis('mean length (tokens)', { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } }) },
               plugins: { legend: { position: 'bottom' } } },
  });
}

function suites() {
  return [...new Set([...dashboard.evaluations.values()].map(e => e.suite))].sort();
}

function byVersion(suite) {
  return [...dashboard.evaluations.values()].filter(e => e.suite === suite).sort((a, b) => a.version - b.version);
}

function renderEvaluations() {
  const all = [...dashboard.evaluations.values()];
  const names = suites();
  const acc = [];
  const div = [];
  names.forEach((suite, si) => {
    const evals = byVersion(suite);
    const k = evals.length ? evals[evals.length - 1].k : 'k';
    for (const m of METRICS) {
      acc.push({ label: `${suite} · ${m.name.replace('@k', '@' + k)}`, borderColor: m.color, backgroundColor: m.color,
                 borderDash: SUITE_DASH[si % SUITE_DASH.length], pointRadius: 3, borderWidth: 2,
                 data: evals.map(e => ({ x: e.version, y: 100 * e[m.key] })) });
    }
    div.push({ label: `${suite}`, borderColor: KIND_COLORS[si % KIND_COLORS.length], backgroundColor: KIND_COLORS[si % KIND_COLORS.length],
               borderDash: SUITE_DASH[si % SUITE_DASH.length], pointRadius: 3, borderWidth: 2,
               data: evals.map(e => ({ x: e.version, y: e.diversity })) });
  });
  dashboard.charts.accuracy.data.datasets = acc;
  dashboard.charts.accuracy.update();
  dashboard.charts.diversity.data.datasets = div;
  dashboard.charts.diversity.update();
  const latest = all.reduce((m, e) => Math.max(m, e.version), -Infinity);
  const last = all.filter(e => e.version === latest);
  if (last.length) {
    const e0 = last[0];
    document.getElementById('acc-note').textContent =
      `(${e0.n} problems per suite; maj@k, pass@k from n=${e0.samples || e0.k} samples at T=${e0.temperature})`;
    document.getElementById('strategy-note').textContent = `(checkpoint v${latest}, T=${e0.temperature})`;
    const tags = [...new Set(last.flatMap(e => Object.keys(e.perStrategyAccuracy)))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const sets = [];
    last.sort((a, b) => a.suite.localeCompare(b.suite)).forEach((e, i) => {
      const color = KIND_COLORS[i % KIND_COLORS.length];
      sets.push({ type: 'bar', label: `${e.suite} accuracy (%)`, yAxisID: 'y', backgroundColor: color + 'cc',
                  data: tags.map(t => 100 * (e.perStrategyAccuracy[t] ?? 0)) });
      sets.push({ type: 'line', label: `${e.suite} mean length (tokens)`, yAxisID: 'tokens', borderColor: color,
                  backgroundColor: color, borderDash: [5, 3], pointRadius: 3, data: tags.map(t => e.perStrategyMeanTokens[t] ?? null) });
    });
    dashboard.charts.strategy.data.labels = tags;
    dashboard.charts.strategy.data.datasets = sets;
    dashboard.charts.strategy.update();
  }
  setText('t-evaluations', all.length);
}

function renderRates(rates) {
  const bucket = dashboard.bucketMs;
  const series = [];
  let maxT = -Infinity;
  const add = (prefix, map) => Object.entries(map).forEach(([kind, buckets]) => {
    const points = Object.entries(buckets).map(([t, n]) => [Number(t), n]);
    points.forEach(([t]) => { maxT = Math.max(maxT, t); });
    series.push({ label: `${prefix} ${kind}`, points });
  });
  add('reward', rates.rewards);
  add('pair', rates.pairs);
  if (Object.keys(rates.samples).length) {
    series.push({ label: 'samples', points: Object.entries(rates.samples).map(([t, n]) => [Number(t), n]) });
  }
  const from = maxT - 59 * bucket; // the last ten minutes of record time
  const span = 3; // a 30 s moving average: single buckets are too spiky to read a trend from
  dashboard.charts.rates.data.datasets = series.map((s, i) => {
    const counts = new Map(s.points);
    const data = [];
    for (let t = from; t <= maxT; t += bucket) {
      let n = 0;
      for (let w = 0; w < span; w++) n += counts.get(t - w * bucket) || 0;
      data.push({ x: t, y: n / (span * bucket / 1000) });
    }
    const color = s.label === 'samples' ? '#9aa5b1' : KIND_COLORS[i % KIND_COLORS.length];
    return { label: s.label, data, borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 2,
             borderDash: s.label.startsWith('pair') ? [6, 3] : [], tension: 0.2 };
  });
  dashboard.charts.rates.update();
}

function renderLag(lag) {
  const chart = dashboard.charts.lag;
  const prefix = document.getElementById('run-name').dataset.prefix || '';
  // two-line labels: group names are long and a cut-off name is useless
  chart.data.labels = lag.map(l => [l.group, `→ ${l.topic.startsWith(prefix) ? l.topic.slice(prefix.length) : l.topic} (${l.lag})`]);
  chart.data.datasets[0].data = lag.map(l => l.lag);
  chart.data.datasets[0].backgroundColor = lag.map(l => (l.lag > 0 ? '#e8760b' : '#1a9c5b'));
  chart.update();
}

function renderTotals(t) {
  setText('t-samples', t.samples.toLocaleString());
  setText('t-rewards', t.rewards.toLocaleString());
  setText('t-pairs', t.pairs.toLocaleString());
}

function renderRecent(ids) {
  const el = document.getElementById('recent');
  el.replaceChildren(...(ids.length ? ids.map(id => {
    const a = document.createElement('a');
    a.textContent = id;
    a.onclick = () => { document.getElementById('problem-id').value = id; trace(id); };
    return a;
  }) : [text('span', 'none yet', 'empty')]));
}

function addEvaluation(e) {
  dashboard.evaluations.set(`${e.version}/${e.suite}`, e);
}

function addCheckpoint(c) {
  dashboard.latestCheckpoint = Math.max(dashboard.latestCheckpoint ?? -Infinity, c.version);
  setText('t-version', 'v' + dashboard.latestCheckpoint);
}

async function loadState() {
  const s = await (await fetch('/api/state')).json();
  dashboard.bucketMs = s.bucketMs;
  s.evaluations.forEach(addEvaluation);
  s.checkpoints.forEach(addCheckpoint);
  renderEvaluations();
  renderRates(s.rates);
  renderLag(s.lag);
  renderTotals(s.totals);
  renderRecent(s.recentProblems);
}

function connect() {
  const events = new EventSource('/events');
  const live = document.getElementById('t-live');
  // Subscribe first, then take the snapshot: nothing published in between is missed (evaluations dedupe by key).
  events.addEventListener('hello', () => { live.textContent = 'live'; live.className = 'value status live'; loadState(); });
  events.addEventListener('evaluation', m => { dashboard.events++; addEvaluation(JSON.parse(m.data)); renderEvaluations(); });
  events.addEventListener('checkpoint', m => { dashboard.events++; addCheckpoint(JSON.parse(m.data)); });
  events.addEventListener('tick', m => {
    const t = JSON.parse(m.data);
    renderRates(t.rates); renderLag(t.lag); renderTotals(t.totals); renderRecent(t.recentProblems);
  });
  events.onerror = () => { live.textContent = 'reconnecting'; live.className = 'value status down'; };
}

async function trace(problemId) {
  const out = document.getElementById('lineage');
  const r = await fetch('/api/lineage/' + encodeURIComponent(problemId));
  const l = await r.json();
  if (!r.ok) {
    out.replaceChildren(text('p', l.error, 'empty'));
    return;
  }
  const rewardsBySample = new Map();
  l.rewards.forEach(w => { if (!rewardsBySample.has(w.sampleId)) rewardsBySample.set(w.sampleId, []); rewardsBySample.get(w.sampleId).push(w); });
  const samples = table(['sample', 'policy', 'tag', 'answer', 'rewards'], l.samples.map(s => [
    mono(s.sampleId), 'v' + s.policyVersion, s.strategy || '–', s.answer,
    (rewardsBySample.get(s.sampleId) || []).map(w => `${w.kind} ${w.value.toFixed(2)}`).join(', ') || '–',
  ]), 'lineage-samples', l.samples.map(s => s.sampleId));
  const pairs = table(['pair', 'kind', 'policy', 'offset', 'trained into'], l.pairs.map(p => [
    mono(p.pairId), p.kind, 'v' + p.policyVersion, mono(`p${p.partition}@${p.offset}`),
    p.trainedIn.length ? p.trainedIn.map(v => 'v' + v).join(', ') : 'not yet',
  ]), 'lineage-pairs', l.pairs.map(p => p.pairId));
  const checkpoints = table(['checkpoint', 'consumed'], l.checkpoints.map(c => [
    'v' + c.version, c.consumed.map(r => `${r.topic.split('.').pop()} p${r.partition} [${r.start}, ${r.end})`).join('; '),
  ]), 'lineage-checkpoints', l.checkpoints.map(c => String(c.version)));
  const head = text('p', '', 'question');
  head.append(text('strong', l.problemId + ' '), text('span', l.question || '(problem not on the topic)'),
    text('span', l.gold ? `  gold: ${l.gold}` : '', 'ok'));
  const cols = document.createElement('div');
  cols.className = 'cols';
  cols.append(section(`samples (${l.samples.length})`, samples), section(`pairs (${l.pairs.length})`, pairs),
    section(`checkpoints trained on them (${l.checkpoints.length})`, checkpoints));
  out.replaceChildren(head, cols);
}

function section(title, body) {
  const d = document.createElement('div');
  d.append(text('h3', title), body);
  return d;
}

function table(headers, rows, id, keys) {
  const t = document.createElement('table');
  t.id = id;
  const tr = document.createElement('tr');
  headers.forEach(h => tr.append(text('th', h)));
  t.append(tr);
  if (!rows.length) {
    const r = document.createElement('tr');
    const td = text('td', 'none', 'empty');
    td.colSpan = headers.length;
    r.append(td);
    t.append(r);
  }
  rows.forEach((cells, i) => {
    const r = document.createElement('tr');
    r.dataset.key = keys[i];
    cells.forEach(c => { const td = document.createElement('td'); if (c instanceof Node) td.append(c); else td.textContent = c; r.append(td); });
    t.append(r);
  });
  return t;
}

function mono(s) { return text('span', s, 'mono'); }

function text(tag, s, cls) {
  const el = document.createElement(tag);
  el.textContent = s;
  if (cls) el.className = cls;
  return el;
}

function setText(id, s) { document.getElementById(id).textContent = s; }

document.getElementById('lineage-form').addEventListener('submit', ev => {
  ev.preventDefault();
  const id = document.getElementById('problem-id').value.trim();
  if (id) trace(id);
});

makeCharts();
connect();
