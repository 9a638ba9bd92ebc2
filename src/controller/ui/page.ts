/**
 * The UI's page and its script, served as they are (no build step). The script builds the DOM
 * with `textContent` only, so no value from a status is ever parsed as HTML.
 */
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>diploid</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2430; background: #f6f7f9; }
  header { background: #1d2430; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  #live { font-size: 12px; color: #9aa4b2; }
  #live.on { color: #7bd88f; }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 12px 16px; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eef0f3; vertical-align: top; }
  th { font-weight: 600; color: #5b6472; font-size: 12px; text-transform: uppercase; }
  tr.env { cursor: pointer; }
  tr.env:hover, tr.env.selected { background: #eef4ff; }
  code { font: 12px ui-monospace, monospace; }
  .True { color: #137333; font-weight: 600; } .False { color: #b3261e; font-weight: 600; } .Unknown { color: #8a6d00; font-weight: 600; }
  .muted { color: #5b6472; }
</style>
</head>
<body>
<header><h1>diploid</h1><span class="muted">read-only</span><span id="live">connecting…</span></header>
<main>
  <section><h2>Environments</h2>
    <table id="environments"><thead><tr><th>Environment</th><th>Branch</th><th>Commit</th><th>Revision</th><th>Ready</th><th>Reason</th><th>Deployed</th><th>Images</th><th>Note</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="detail" hidden>
    <h2 id="detail-title"></h2>
    <p id="detail-summary" class="muted"></p>
    <h2>Conditions</h2>
    <table id="conditions"><thead><tr><th>Type</th><th>Status</th><th>Reason</th><th>Since</th><th>Message</th></tr></thead><tbody></tbody></table>
    <h2>Services</h2>
    <table id="services"><thead><tr><th>Service</th><th>Kind</th><th>Ready</th><th>Rollout</th><th>Image</th></tr></thead><tbody></tbody></table>
    <h2>History</h2>
    <table id="history"><thead><tr><th>Revision</th><th>Commit</th><th>Deployed</th><th>Cause</th><th>By</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<script src="/ui.js"></script>
</body>
</html>
`;

const script = `'use strict';
let selected = new URLSearchParams(location.hash.slice(1)).get('env');
let environments = [];
const short = (sha) => (sha ? sha.slice(0, 12) : '-');
function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}
function fill(id, rows, render) {
  const body = document.querySelector('#' + id + ' tbody');
  body.replaceChildren();
  for (const item of rows) { const tr = document.createElement('tr'); render(tr, item); body.appendChild(tr); }
}
function left(ms) {
  const s = Math.max(0, Math.floor(ms / 1000)), d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d > 0 ? d + 'd ' + h + 'h' : h > 0 ? h + 'h ' + m + 'm' : m > 0 ? m + 'm' : s + 's';
}
function note(view) {
  const notes = [];
  if (view.pin) notes.push('pinned (' + view.pin.reason + (view.pin.from ? ' from ' + view.pin.from : '') + ')');
  if (view.preview && view.preview.expiredAt) notes.push('preview expired');
  else if (view.preview && view.preview.expiresAt) notes.push('preview, ' + left(Date.parse(view.preview.expiresAt) - Date.now()) + ' left (ttl ' + view.preview.ttl + ')');
  else if (view.preview) notes.push('preview');
  return notes.join('; ');
}
function renderList() {
  fill('environments', environments, (tr, view) => {
    tr.className = 'env' + (view.environment === selected ? ' selected' : '');
    tr.dataset.env = view.environment;
    cell(tr, view.environment);
    cell(tr, view.branch || '-');
    cell(tr, view.commit ? view.repo + '@' + short(view.commit) : '-');
    cell(tr, short(view.revision));
    cell(tr, view.ready, view.ready);
    cell(tr, view.reason || '-');
    cell(tr, view.deployedAt || '-');
    cell(tr, Object.entries(view.images).map(([s, i]) => s + '=' + i).join(', '));
    cell(tr, note(view));
    tr.addEventListener('click', () => { selected = view.environment; location.hash = 'env=' + encodeURIComponent(selected); renderList(); loadDetail(); });
  });
}
async function loadDetail() {
  const section = document.getElementById('detail');
  if (!selected) { section.hidden = true; return; }
  const response = await fetch('/api/environments/' + encodeURIComponent(selected));
  if (!response.ok) { section.hidden = true; return; }
  const view = await response.json();
  section.hidden = false;
  document.getElementById('detail-title').textContent = view.environment + ' (' + view.namespace + ')';
  const bits = ['revision ' + short(view.revision), 'commits ' + (Object.entries(view.commits).map(([r, c]) => r + '@' + short(c)).join(', ') || '-')];
  if (view.preview) bits.push('preview of ' + view.preview.base + (view.preview.expiresAt ? ', expires ' + view.preview.expiresAt : ''));
  if (view.pin) bits.push('pinned by ' + view.pin.reason + ' at ' + view.pin.at + '; the next push ends it');
  document.getElementById('detail-summary').textContent = bits.join(' · ');
  fill('conditions', view.conditions, (tr, c) => { cell(tr, c.type); cell(tr, c.status, c.type === 'Ready' ? c.status : c.type === 'Stalled' && c.status === 'True' ? 'False' : 'muted'); cell(tr, c.reason); cell(tr, c.lastTransitionTime); cell(tr, c.message); });
  fill('services', view.services, (tr, s) => { cell(tr, s.service); cell(tr, s.kind); cell(tr, s.ready + '/' + s.desired); cell(tr, s.rollout); cell(tr, Object.values(s.images).join(', ')); });
  fill('history', view.history, (tr, h) => { cell(tr, short(h.revision)); cell(tr, h.commit ? h.repo + '@' + short(h.commit) : '-'); cell(tr, h.deployedAt); cell(tr, h.cause); cell(tr, h.by || '-'); });
}
async function loadList() {
  const response = await fetch('/api/environments');
  environments = (await response.json()).environments;
  renderList();
}
const live = document.getElementById('live');
const events = new EventSource('/api/events');
events.addEventListener('open', () => { live.textContent = 'live'; live.className = 'on'; });
events.addEventListener('error', () => { live.textContent = 'reconnecting…'; live.className = ''; });
events.addEventListener('environments', (event) => { environments = JSON.parse(event.data).environments; renderList(); loadDetail(); });
setInterval(renderList, 30000);
loadList().then(loadDetail);
`;

export const UI_PAGE = { html, script } as const;
