/** The console's stylesheet and its one small script (served from the device, never a CDN). */
export const CONSOLE_CSS = `
body { font-family: system-ui, sans-serif; margin: 0; background: #f3f4f6; color: #111; }
header { background: #1f2937; color: #fff; padding: 10px 20px; display: flex; gap: 24px; align-items: center; }
header nav a, header .who a { color: #c7d2fe; margin-right: 14px; }
svg.chart { width: 100%; max-width: 300px; height: auto; }
header .who { margin-left: auto; font-size: 14px; }
main { padding: 16px 20px; max-width: 1200px; }
form { background: #fff; padding: 12px; border-radius: 6px; margin-bottom: 14px; display: flex; flex-wrap: wrap; gap: 10px; align-items: end; }
label { display: flex; flex-direction: column; font-size: 13px; gap: 3px; }
input, select, button { font: inherit; padding: 5px 8px; }
#message { min-height: 1.4em; color: #b91c1c; font-weight: 600; }
#message.ok { color: #166534; }
table { border-collapse: collapse; background: #fff; width: 100%; font-size: 14px; }
td, th { border-bottom: 1px solid #e5e7eb; padding: 6px 8px; text-align: left; vertical-align: top; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 14px; }
.card { background: #fff; border-radius: 6px; padding: 12px; }
.card img { width: 100%; background: #ddd; min-height: 60px; }
.na { color: #6b7280; }
.bad { color: #b91c1c; font-weight: 600; }
.good { color: #166534; font-weight: 600; }
pre { background: #fff; padding: 10px; overflow: auto; font-size: 12px; }
img.plate { height: 40px; }
img.overview { height: 90px; }
code.secret { font-size: 18px; background: #fff; padding: 4px 8px; }
`;

/**
 * One script for every page, chosen by <body data-page>. JSON requests only (the API refuses
 * other bodies: with a SameSite=Strict cookie that is the CSRF defence); text is set with
 * textContent, never innerHTML, so a plate or a user name cannot become markup.
 */
export const CONSOLE_JS = String.raw`
'use strict';
const $ = (id) => document.getElementById(id);
function msg(text, ok) { const m = $('message'); m.textContent = text || ''; m.className = ok ? 'ok' : ''; }
async function api(method, url, body) {
  const r = await fetch(url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const type = r.headers.get('content-type') || '';
  const data = type.includes('json') ? await r.json() : await r.text();
  if (!r.ok) { const e = new Error((data && data.message) || ('HTTP ' + r.status)); e.status = r.status; e.code = data && data.code; throw e; }
  return data;
}
function el(tag, text, attrs) { const e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v); return e; }
function formData(form) { const o = {}; for (const [k, v] of new FormData(form).entries()) if (v !== '') o[k] = v; return o; }
function row(cells) { const tr = el('tr'); for (const c of cells) { const td = el('td'); if (c instanceof Node) td.append(c); else td.textContent = c === undefined || c === null ? 'n/a' : String(c); tr.append(td); } return tr; }
function when(ms) { return ms === undefined || ms === null ? 'n/a' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z'; }
function local(v) { return v ? new Date(v).getTime() : undefined; }
function on(id, fn) { const f = $(id); if (f) f.addEventListener('submit', (ev) => { ev.preventDefault(); msg(''); fn(f).catch((e) => msg(e.message)); }); }
const lo = $('logout'); if (lo) lo.addEventListener('click', () => api('POST', '/api/logout', {}).finally(() => { location.href = '/login'; }));

const pages = {
  setup() {
    on('setup-form', async (f) => { await api('POST', '/api/setup', formData(f)); msg('Admin created. Sign in to enrol your second factor.', true); setTimeout(() => { location.href = '/login'; }, 600); });
  },
  login() {
    const show = (id) => { for (const s of ['step-password', 'step-totp', 'step-enrol', 'step-unlock']) $(s).hidden = s !== id; };
    const home = () => { location.href = '/'; };
    const params = new URLSearchParams(location.search);
    if (params.get('locked')) { show('step-unlock'); msg('Your session was locked after inactivity.'); }
    else if (params.get('step') === '2fa') api('GET', '/api/me').then((me) => me.totpEnrolled ? show('step-totp') : startEnrol()).catch(() => show('step-password'));
    async function startEnrol() { const e = await api('POST', '/api/totp/enrol', {}); $('totp-secret').textContent = e.secret; $('totp-uri').textContent = e.uri; show('step-enrol'); }
    on('password-form', async (f) => { const r = await api('POST', '/api/login', formData(f)); if (r.secondFactor === 'required') show('step-totp'); else await startEnrol(); });
    on('totp-form', async (f) => { await api('POST', '/api/login/totp', formData(f)); home(); });
    on('enrol-form', async (f) => { await api('POST', '/api/totp/confirm', formData(f)); home(); });
    on('unlock-form', async (f) => { await api('POST', '/api/session/unlock', formData(f)); home(); });
  },
  search() {
    let inquiry = null;
    on('search-form', async (f) => {
      const d = formData(f);
      const body = { caseNumber: d.caseNumber === undefined ? undefined : d.caseNumber, purpose: d.purpose, from: local(d.from), to: local(d.to) };
      if (d.plate) body.plate = d.plate; if (d.cameraId) body.cameraId = d.cameraId;
      if (body.purpose === undefined) body.purpose = '';
      if (body.caseNumber === undefined) body.caseNumber = '';
      const r = await api('POST', '/api/detections/search', body);
      inquiry = r.inquiry;
      const tb = $('results'); tb.textContent = '';
      for (const h of r.hits) {
        const box = el('input', undefined, { type: 'checkbox', value: h.id, 'data-testid': 'select' });
        const base = '/api/inquiries/' + r.inquiry + '/detections/' + h.id + '/image/';
        const plate = el('img', undefined, { class: 'plate', alt: 'plate ' + h.plate, src: base + 'plate' });
        const over = el('img', undefined, { class: 'overview', alt: 'overview', src: base + 'overview' });
        over.onerror = () => over.replaceWith(el('span', 'n/a', { class: 'na' }));
        const more = el('button', 'details', { type: 'button' });
        more.onclick = () => api('GET', '/api/inquiries/' + r.inquiry + '/detections/' + h.id).then((d) => {
          $('detail').textContent = JSON.stringify({ plate: d.plate, state: d.state, confidence: d.confidence, candidates: d.candidates, camera: d.cameraId, site: d.site, capturedAt: when(d.capturedAt), direction: d.direction, match: d.match, clock: d.clock, versions: d.versions }, null, 2);
        }).catch((e) => msg(e.message));
        const tr = row([box, h.plate, when(h.capturedAt), h.cameraId, h.class, plate, over, more]); tr.setAttribute('data-testid', 'result'); tb.append(tr);
      }
      $('result-count').textContent = r.hits.length + ' result(s)' + (r.truncated ? ' (more matched; narrow the search)' : '') + ' for case ' + r.caseNumber;
      $('hold-form').hidden = r.hits.length === 0;
    });
    on('hold-form', async (f) => {
      const ids = [...document.querySelectorAll('#results input[type=checkbox]:checked')].map((b) => b.value);
      const h = await api('POST', '/api/holds', { inquiry, ids, reason: formData(f).reason || '' });
      msg('Hold ' + h.id + ' placed on ' + h.records + ' detection(s).', true); $('hold-id').value = h.id;
    });
    on('export-form', async (f) => {
      const d = formData(f);
      const r = await api('POST', '/api/holds/' + d.holdId + '/export', { purpose: d.purpose || '', password: d.password || '', release: { agency: d.agency || '', requester: d.requester || '', purpose: d.releasePurpose || '', approver: d.approver || '', ...(d.requestRef ? { requestRef: d.requestRef } : {}) } });
      const a = el('a', 'Download bundle ' + r.bundleId, { download: 'evidence-' + r.bundleId + '.jwe', href: URL.createObjectURL(new Blob([r.bundle], { type: 'application/jose' })) });
      $('export-result').textContent = ''; $('export-result').append(a); msg('Exported ' + r.records + ' record(s); release recorded.', true);
    });
  },
  audit() {
    on('audit-form', async (f) => {
      const d = formData(f); const q = new URLSearchParams();
      q.set('purpose', d.purpose || '');
      for (const k of ['user', 'action', 'outcome', 'caseNumber']) if (d[k]) q.set(k, d[k]);
      if (d.from) q.set('from', String(local(d.from))); if (d.to) q.set('to', String(local(d.to)));
      const r = await api('GET', '/api/audit?' + q.toString());
      const tb = $('entries'); tb.textContent = '';
      for (const e of r.entries) { const tr = row([e.seq, e.at, e.user, e.source, e.action, e.outcome, e.caseNumber, e.purpose, JSON.stringify(e.terms || {}), e.resultCount, e.detail]); tr.setAttribute('data-testid', 'audit-entry'); tb.append(tr); }
      $('entry-count').textContent = r.entries.length + ' of ' + r.matched + ' matching entries';
    });
    on('verify-form', async (f) => { const r = await api('POST', '/api/audit/verify', formData(f)); $('verify-result').textContent = r.ok ? 'Chain intact: ' + r.entries + ' entries (' + r.firstSeq + '–' + r.lastSeq + '), ' + r.checkpoints + ' checkpoint(s)' : 'BROKEN at entry ' + r.problem.seq + ': ' + r.problem.reason; $('verify-result').className = r.ok ? 'good' : 'bad'; });
    on('chain-form', async (f) => { const r = await api('POST', '/api/chains/verify', formData(f)); $('chain-result').textContent = r.ok ? 'Detection chain ' + r.day + ' / ' + r.camera + ' intact: ' + r.links + ' links (' + r.purged + ' purged)' : 'BROKEN at link ' + r.problem.seq + ': ' + r.problem.reason; $('chain-result').className = r.ok ? 'good' : 'bad'; });
    on('sample-form', async (f) => { const d = formData(f); const body = { purpose: d.purpose || '' }; if (d.seed) body.seed = Number(d.seed); if (d.count) body.count = Number(d.count); const r = await api('POST', '/api/audit/sample', body); $('sample-result').textContent = r.text; });
  },
  admin() {
    async function load() {
      const r = await api('GET', '/api/accounts'); const tb = $('accounts'); tb.textContent = '';
      for (const a of r.accounts) {
        const actions = el('span');
        if (a.locked) { const b = el('button', 'Release lockout', { type: 'button' }); b.onclick = () => api('POST', '/api/accounts/' + a.username + '/release', {}).then(load).catch((e) => msg(e.message)); actions.append(b); }
        const d = el('button', a.disabled ? 'Enable' : 'Disable', { type: 'button' }); d.onclick = () => api('POST', '/api/accounts/' + a.username + '/disable', { disabled: !a.disabled }).then(load).catch((e) => msg(e.message)); actions.append(d);
        const t = el('button', 'Reset 2nd factor', { type: 'button' }); t.onclick = () => api('POST', '/api/accounts/' + a.username + '/reset-totp', {}).then(load).catch((e) => msg(e.message)); actions.append(t);
        tb.append(row([a.username, a.role, a.totpEnrolled ? 'yes' : 'no', a.locked ? 'LOCKED ' + when(a.lockedAt) : 'no', a.disabled ? 'yes' : 'no', a.createdBy, actions]));
      }
    }
    load().catch((e) => msg(e.message));
    on('create-form', async (f) => { await api('POST', '/api/accounts', formData(f)); msg('Account created.', true); f.reset(); await load(); });
    on('tamper-form', async (f) => { const r = await api('POST', '/api/tamper/clear', formData(f)); msg(r.locked ? 'Still locked (switch open?)' : 'Tamper lock cleared.', !r.locked); });
  },
  commissioning() {
    let timer = null;
    async function refresh() {
      const r = await api('GET', '/api/commissioning'); const run = r.run; const tb = $('passes'); tb.textContent = '';
      if (!run) { $('run').textContent = 'No run yet.'; return; }
      $('run').textContent = 'Camera ' + run.cameraId + ', test plate ' + run.testPlate + ': ' + run.passes.length + ' of ' + run.passesWanted + ' passes seen; ' + run.otherVehicles + ' other vehicle(s) not shown' + (run.finishedAt ? ' (finished)' : '');
      for (const p of run.passes) tb.append(row([p.n, when(p.at), p.read, p.exact ? 'exact' : 'MISREAD', Math.round(p.confidence * 100) + '%', p.plateWidthPx + ' × ' + p.plateHeightPx, p.focus]));
    }
    on('start-form', async (f) => { const d = formData(f); await api('POST', '/api/commissioning', { cameraId: d.cameraId, plate: d.plate, passes: Number(d.passes) }); await refresh(); clearInterval(timer); timer = setInterval(() => refresh().catch((e) => msg(e.message)), 2000); });
    on('finish-form', async () => { const r = await api('POST', '/api/commissioning/finish', {}); clearInterval(timer); await refresh(); $('report').textContent = JSON.stringify(r.report.summary, null, 2) + '\n\nSigned report (JWS):\n' + r.jws; });
    refresh().catch((e) => msg(e.message));
  },
  live() {
    const canvas = $('live-canvas'); const pick = $('live-camera');
    let player = null;
    function play() { if (player) player.destroy(); const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live/' + encodeURIComponent(pick.value); player = new JSMpeg.Player(url, { canvas, audio: false }); }
    if (pick && window.JSMpeg) { pick.addEventListener('change', play); play(); }
  },
  password() {
    on('password-change-form', async (f) => { await api('POST', '/api/password', formData(f)); f.reset(); msg('Password changed.', true); });
  },
  health() {
    // No inline handlers (the CSP forbids them): a thumbnail that failed before this ran is caught too.
    for (const img of document.querySelectorAll('img.thumb')) {
      const none = () => img.replaceWith(el('span', 'no frame (n/a)', { class: 'na' }));
      if (img.complete && img.naturalWidth === 0) none(); else img.addEventListener('error', none);
    }
  },
  denied() {},
};
(pages[document.body.dataset.page] || (() => {}))();
`;
