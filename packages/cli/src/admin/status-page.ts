import { createHash } from 'node:crypto';

/**
 * The status page's script: fetches `/status.json` every few seconds and draws it. Every value
 * taken from the server (and so from clients: addresses, error text) goes in with
 * `textContent` or an attribute of an SVG element made here, never as HTML.
 */
const script = `
'use strict';
var REFRESH_MS = 3000;
var SVG = 'http://www.w3.org/2000/svg';
function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = String(text);
  return e;
}
function svgEl(tag, attrs) {
  var e = document.createElementNS(SVG, tag);
  for (var k in attrs) e.setAttribute(k, String(attrs[k]));
  return e;
}
function bytes(n) {
  var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  var i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
}
function duration(ms) {
  var s = Math.floor(ms / 1000);
  var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  if (d > 0) return d + 'd ' + h + 'h';
  if (h > 0) return h + 'h ' + m + 'm';
  if (m > 0) return m + 'm ' + (s % 60) + 's';
  return s + 's';
}
function clock(t) {
  return new Date(t).toLocaleTimeString();
}
/** A small line chart of values over time: an inline SVG with a polyline and its peak. */
function chart(points, width, height, label) {
  var svg = svgEl('svg', { width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, role: 'img', class: 'chart' });
  svg.setAttribute('aria-label', label);
  // One sample so far (the first seconds): a level line at its value.
  if (points.length === 1) points = [points[0], { t: points[0].t + 1, v: points[0].v }];
  var max = 1;
  for (var i = 0; i < points.length; i++) if (points[i].v > max) max = points[i].v;
  svg.appendChild(svgEl('line', { x1: 0, y1: height - 1, x2: width, y2: height - 1, class: 'axis' }));
  if (points.length > 1) {
    var t0 = points[0].t, t1 = points[points.length - 1].t, span = Math.max(1, t1 - t0);
    var coords = points.map(function (p) {
      var x = ((p.t - t0) / span) * (width - 2) + 1;
      var y = height - 2 - (p.v / max) * (height - 6);
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    svg.appendChild(svgEl('polyline', { points: coords.join(' '), class: 'line' }));
  }
  var peak = svgEl('text', { x: width - 2, y: 10, 'text-anchor': 'end', class: 'peak' });
  peak.textContent = 'max ' + max;
  svg.appendChild(peak);
  return svg;
}
function series(history, name) {
  return history.map(function (h) { return { t: h.t, v: h.connections[name] || 0 }; });
}
function total(history) {
  return history.map(function (h) {
    var v = 0;
    for (var k in h.connections) v += h.connections[k];
    return { t: h.t, v: v };
  });
}
function cell(row, text, cls) {
  var td = el('td', cls, text);
  row.appendChild(td);
  return td;
}
function render(s) {
  document.getElementById('version').textContent = 'version ' + s.version;
  var phase = document.getElementById('phase');
  phase.textContent = s.phase;
  phase.className = 'phase ' + s.phase;
  document.getElementById('uptime').textContent = 'up ' + duration(Date.now() - s.startedAt);
  document.getElementById('pid').textContent = 'pid ' + s.pid + (s.workers > 1 ? ' (' + s.workers + ' workers)' : '');
  document.getElementById('process').textContent =
    'rss ' + bytes(s.process.rssBytes) + ' \\u00b7 heap ' + bytes(s.process.heapUsedBytes) +
    ' \\u00b7 cpu ' + s.process.cpuSeconds.toFixed(1) + ' s \\u00b7 event-loop lag ' + (s.process.eventLoopLagSeconds * 1000).toFixed(1) + ' ms';

  var overall = document.getElementById('overall');
  overall.replaceChildren(chart(total(s.history), 640, 90, 'open connections, all daemons'));

  var body = document.getElementById('daemons');
  body.replaceChildren();
  s.daemons.forEach(function (d) {
    var row = el('tr', 'daemon');
    cell(row, d.name, 'name');
    cell(row, d.protocol);
    var where = cell(row, d.address, 'mono');
    if (d.tlsAddress) where.appendChild(el('div', 'tls', 'TLS ' + d.tlsAddress));
    cell(row, d.connections, 'num now');
    var spark = el('td', 'spark');
    spark.appendChild(chart(series(s.history, d.name), 160, 32, d.name + ' open connections'));
    row.appendChild(spark);
    cell(row, d.total, 'num');
    cell(row, d.rejected, 'num');
    cell(row, bytes(d.bytesIn), 'num');
    cell(row, bytes(d.bytesOut), 'num');
    cell(row, d.errors, d.errors > 0 ? 'num bad' : 'num');
    body.appendChild(row);
  });
  if (s.daemons.length === 0) {
    var none = el('tr');
    var td = cell(none, 'no daemon running', 'empty');
    td.colSpan = 10;
    body.appendChild(none);
  }

  var clients = document.getElementById('clients');
  clients.replaceChildren();
  s.topClients.forEach(function (c) {
    var row = el('tr');
    cell(row, c.address, 'mono');
    cell(row, c.connections, 'num');
    clients.appendChild(row);
  });
  if (s.topClients.length === 0) clients.appendChild(el('tr')).appendChild(el('td', 'empty', 'no clients yet'));

  var errors = document.getElementById('errors');
  errors.replaceChildren();
  s.recentErrors.forEach(function (e) {
    var li = el('li');
    li.appendChild(el('span', 'when', clock(e.t)));
    li.appendChild(el('span', 'who', e.daemon || '-'));
    li.appendChild(el('span', 'kind', e.kind));
    li.appendChild(el('span', 'msg', e.message));
    errors.appendChild(li);
  });
  if (s.recentErrors.length === 0) errors.appendChild(el('li', 'empty', 'no errors'));
  document.getElementById('updated').textContent = 'updated ' + clock(Date.now());
  document.body.setAttribute('data-loaded', 'true');
}
function refresh() {
  fetch('status.json', { cache: 'no-store' })
    .then(function (r) { if (!r.ok) throw new Error('status.json: ' + r.status); return r.json(); })
    .then(function (s) { render(s); document.getElementById('stale').hidden = true; })
    .catch(function () { document.getElementById('stale').hidden = false; })
    .then(function () { setTimeout(refresh, REFRESH_MS); });
}
refresh();
`;

const style = `
:root { color-scheme: light dark; --fg: #1d2329; --muted: #6b7580; --line: #2f7dd1; --bad: #c0392b; --ok: #1e8449; --rule: #d9dee3; }
@media (prefers-color-scheme: dark) { :root { --fg: #e3e7eb; --muted: #98a2ad; --line: #6cb4ff; --rule: #39424b; } }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem auto; max-width: 72rem; padding: 0 1rem; color: var(--fg); }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: baseline; }
h1 { font-size: 1.4rem; margin: 0; }
h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
.meta, #process, #updated { color: var(--muted); }
.phase { font-weight: 600; padding: .1rem .5rem; border-radius: .3rem; border: 1px solid currentColor; }
.phase.running { color: var(--ok); } .phase.draining, .phase.stopped, .phase.starting { color: var(--bad); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--rule); vertical-align: middle; }
th { color: var(--muted); font-weight: 500; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.now { font-weight: 600; }
.mono, .msg { font-family: ui-monospace, monospace; }
.tls { color: var(--muted); font-size: .85em; }
.bad { color: var(--bad); }
.empty { color: var(--muted); font-style: italic; }
.chart .line { fill: none; stroke: var(--line); stroke-width: 1.5; }
.chart .axis { stroke: var(--rule); }
.chart .peak { fill: var(--muted); font-size: 9px; }
.cols { display: grid; grid-template-columns: 1fr 2fr; gap: 2rem; }
#errors { list-style: none; padding: 0; margin: 0; max-height: 20rem; overflow: auto; }
#errors li { padding: .25rem 0; border-bottom: 1px solid var(--rule); display: flex; gap: .6rem; }
#errors .when, #errors .who { color: var(--muted); white-space: nowrap; }
#errors .kind { font-weight: 600; white-space: nowrap; }
#errors .msg { overflow-wrap: anywhere; }
#stale { color: var(--bad); }
`;

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gorgon status</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
<header>
  <h1>Gorgon</h1>
  <span id="phase" class="phase">loading</span>
  <span id="uptime" class="meta"></span>
  <span id="version" class="meta"></span>
  <span id="pid" class="meta"></span>
  <span id="stale" hidden>status unavailable: retrying</span>
</header>
<p id="process"></p>
<h2>Open connections, last minutes</h2>
<div id="overall"></div>
<h2>Daemons</h2>
<table>
  <thead><tr><th>daemon</th><th>protocol</th><th>address</th><th class="num">open</th><th>last minutes</th><th class="num">total</th><th class="num">refused</th><th class="num">in</th><th class="num">out</th><th class="num">errors</th></tr></thead>
  <tbody id="daemons"></tbody>
</table>
<div class="cols">
  <section>
    <h2>Top client addresses</h2>
    <table><thead><tr><th>address</th><th class="num">connections</th></tr></thead><tbody id="clients"></tbody></table>
  </section>
  <section>
    <h2>Recent warnings and errors</h2>
    <ul id="errors"></ul>
  </section>
</div>
<p id="updated"></p>
<noscript>This page draws /status.json with a little script; <a href="status.json">read it directly</a>.</noscript>
<script>${script}</script>
</body>
</html>
`;

/** The status page: plain HTML, a style sheet and a small script, no build step. */
export const statusPage = page;

/**
 * The page's Content-Security-Policy: only its own inline script (by hash) runs, and it may
 * only fetch from this origin; nothing a client sent could run as script even if it got in.
 */
export const statusPagePolicy = [
  "default-src 'none'",
  `script-src 'sha256-${createHash('sha256').update(script).digest('base64')}'`,
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
