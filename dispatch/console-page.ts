/**
 * The dispatcher's page, rendered on the server: one card per hit (the same function renders the
 * first list and every card the live stream pushes, so there is one rendering), and a little
 * inline script that inserts pushed cards, ticks the ages and posts dispositions. No framework,
 * nothing from a CDN. Every value from a hit goes through {@link esc}: the device is in the
 * field and its strings are not trusted markup.
 */
import type { ListedEntry } from './hit-view.ts';
import { hitState, nextDispositions } from './hit-view.ts';
import type { ReceivedHit } from './receiver.ts';
import type { Disposition } from './signer.ts';

export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const DISPOSITION_LABEL: Record<Disposition, string> = {
  'visually-verified': 'Visually verified',
  misread: 'Misread',
  confirmed: 'Confirmed with entering agency',
};

const STATE_LABEL = { alert: 'Alert — not verified', ...DISPOSITION_LABEL } as const;

/** Sealed field names as the hot-list import writes them (gateway/hotlist/rows.ts), in reading order; others follow. */
const FIELD_ORDER = ['entered_by', 'agency', 'case_number', 'synopsis', 'ncic_number', 'source'];

function fieldLabel(name: string): string {
  return name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()).replace(/\b(ncic|vin)\b/gi, (w) => w.toUpperCase());
}

function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export function renderCard(r: ReceivedHit, listed: ListedEntry): string {
  const h = r.hit;
  const m = h.match;
  const state = hitState(r);
  const fields = listed.fields
    ? Object.entries(listed.fields).sort(([a], [b]) => (FIELD_ORDER.indexOf(a) + 1 || 99) - (FIELD_ORDER.indexOf(b) + 1 || 99))
    : [];
  const subs = m.substitutions.map((s) => `<li>position ${esc(s.position)}: read <b>${esc(s.read || '—')}</b>, listed <b>${esc(s.listed || '—')}</b>${s.op ? ` (${esc(s.op)})` : ''}</li>`).join('');
  const next = nextDispositions(r);
  const history = r.dispositions.map((d) => `<li data-testid="disposition"><b>${esc(DISPOSITION_LABEL[d.disposition])}</b> by ${esc(d.by)} at ${esc(time(d.at))}: ${esc(d.reason)}</li>`).join('');
  const listAge = h.hotlist.ageMs !== undefined ? `${(h.hotlist.ageMs / 3_600_000).toFixed(1)} h old` : 'age unknown';
  return `<article class="hit state-${esc(state)}" data-testid="hit" data-hit-id="${esc(h.hitId)}" data-state="${esc(state)}">
  <div class="images">
    <img class="plate" data-testid="plate-image" src="/api/hits/${esc(h.hitId)}/plate.jpg" alt="plate crop, read ${esc(h.plate)}">
    ${h.images.overview ? `<img class="overview" data-testid="overview-image" src="/api/hits/${esc(h.hitId)}/overview.jpg" alt="overview of the vehicle">` : '<div class="noimg">no overview image</div>'}
  </div>
  <div class="compare">
    <section class="read"><h3>Read</h3>
      <div class="plate-text" data-testid="read-plate">${esc(h.plate)}${h.state ? ` <span class="st">${esc(h.state.toUpperCase())}</span>` : ''}</div>
      <div class="meta">confidence ${esc(Math.round(h.confidence * 100))}% · candidates ${h.candidates.slice(0, 3).map((c) => esc(c.text)).join(', ')}</div>
    </section>
    <section class="listed"><h3>Hot-list entry</h3>
      <div class="plate-text" data-testid="listed-plate">${esc(m.listedPlate)}${m.listedState ? ` <span class="st">${esc(m.listedState.toUpperCase())}</span>` : ''}</div>
      <div><span class="list">${esc(m.listType)}</span> priority ${esc(m.priority)}${m.covert ? ' · <b>covert</b>: do not alert the occupants' : ''}</div>
      <div class="meta">list ${esc(m.listId)} version ${esc(m.listVersion)} · ${esc(listAge)}${h.hotlist.stale ? ' · <span class="warn">STALE list: confirm the entry is still active</span>' : ''}</div>
      ${fields.length ? `<dl class="fields" data-testid="sealed-fields">${fields.map(([k, v]) => `<dt>${esc(fieldLabel(k))}</dt><dd>${esc(v)}</dd>`).join('')}</dl>` : ''}
      ${listed.sealedError ? `<div class="warn" data-testid="sealed-error">Entry details could not be opened: ${esc(listed.sealedError)}</div>` : ''}
    </section>
  </div>
  <div class="why" data-testid="why"><b>Why it matched:</b> ${esc(m.explanation)} <span class="meta">(${esc(m.kind)}${m.kind === 'edit-distance' ? `, distance ${esc(m.distance)}` : ''})</span>${subs ? `<ul class="subs">${subs}</ul>` : ''}</div>
  <div class="meta where">Camera <b>${esc(h.camera)}</b> · ${esc(h.site)} · device ${esc(h.device)}${h.location ? ` · ${esc(h.location.lat.toFixed(5))}, ${esc(h.location.lon.toFixed(5))}` : ''} · seen ${esc(time(h.capturedAt))} · <span class="age" data-captured="${esc(h.capturedAt)}"></span> ago · at dispatch ${esc((r.latencyMs / 1000).toFixed(1))} s after capture${h.clock !== 'trusted' ? ` · device clock ${esc(h.clock)}` : ''}</div>
  <div class="state" data-testid="state">${esc(STATE_LABEL[state])}</div>
  ${history ? `<ul class="history">${history}</ul>` : ''}
  ${next.length ? `<form class="act" data-testid="actions">
    <textarea name="reason" required placeholder="Reason (required): what you checked, whom you called" rows="2"></textarea>
    <div class="buttons">${next.map((d) => `<button type="submit" name="disposition" value="${esc(d)}">${esc(DISPOSITION_LABEL[d])}</button>`).join('')}</div>
    <div class="err" role="alert"></div>
  </form>` : ''}
  <div class="notice">An alert, not a verified fact: compare the plate image with the entry and confirm with the entering agency before broadcasting.</div>
</article>`;
}

/**
 * One line per pole from its last status (contract 3): online or offline, hits waiting in its
 * outbox and for how long, a certificate close to expiry. A dispatcher reads "no hits" from a
 * pole that is down differently from a quiet road.
 */
export function renderDevices(devices: Readonly<Record<string, Readonly<Record<string, unknown>>>>, now: number): string {
  const rows = Object.entries(devices).sort(([a], [b]) => a.localeCompare(b)).map(([device, st]) => {
    const online = st['state'] === 'online';
    const outbox = st['outbox'] as { depth?: unknown; oldestAgeMs?: unknown } | undefined;
    const depth = typeof outbox?.depth === 'number' ? outbox.depth : 0;
    const oldest = typeof outbox?.oldestAgeMs === 'number' ? outbox.oldestAgeMs : 0;
    const notAfter = (st['certificate'] as { notAfter?: unknown } | undefined)?.notAfter;
    const daysLeft = typeof notAfter === 'number' ? Math.floor((notAfter - now) / 86_400_000) : undefined;
    const notes = [
      depth > 0 ? `${depth} waiting to send, oldest ${Math.round(oldest / 1000)} s` : '',
      daysLeft !== undefined && daysLeft < 14 ? `certificate expires in ${daysLeft} d` : '',
    ].filter((n) => n !== '');
    return `<li class="dev ${online ? 'on' : 'off'}" data-device="${esc(device)}"><b>${esc(device)}</b> ${online ? 'online' : 'OFFLINE'}${notes.length ? ` · <span class="warn">${esc(notes.join(' · '))}</span>` : ''}</li>`;
  });
  return `<ul id="devices" data-testid="devices">${rows.join('')}</ul>`;
}

export function renderPage(cards: readonly string[], opts: { needName: boolean; user?: string; devices: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ALPR dispatch — hits</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f3f4f6; color: #111; }
  header { background: #1f2937; color: #fff; padding: 10px 20px; display: flex; gap: 16px; justify-content: space-between; align-items: center; }
  header h1 { font-size: 18px; margin: 0; }
  header input { padding: 4px 6px; }
  #status { font-size: 13px; opacity: .85; }
  main { padding: 16px 20px; }
  .empty { color: #555; padding: 24px; }
  .hit { background: #fff; border-left: 6px solid #b91c1c; border-radius: 6px; padding: 12px; margin-bottom: 14px; display: grid; grid-template-columns: 330px 1fr; gap: 8px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  .hit.state-visually-verified { border-left-color: #d97706; }
  .hit.state-confirmed { border-left-color: #047857; }
  .hit.state-misread { border-left-color: #6b7280; opacity: .8; }
  .images { grid-row: span 6; display: flex; flex-direction: column; gap: 8px; }
  .images img.plate { width: 320px; border: 1px solid #ccc; background: #eee; }
  .images img.overview { width: 320px; border: 1px solid #ccc; background: #eee; }
  .compare { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
  .compare h3 { margin: 0 0 4px; font-size: 12px; text-transform: uppercase; color: #6b7280; }
  .plate-text { font: bold 28px ui-monospace, monospace; letter-spacing: 2px; }
  .st { font-size: 16px; color: #374151; }
  .list { display: inline-block; background: #b91c1c; color: #fff; border-radius: 4px; padding: 1px 8px; font-size: 13px; text-transform: uppercase; }
  .fields { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; font-size: 14px; margin: 6px 0 0; }
  .fields dt { color: #6b7280; }
  .fields dd { margin: 0; }
  .meta { font-size: 13px; color: #374151; line-height: 1.5; }
  .warn { color: #b45309; font-weight: 600; }
  .why { font-size: 14px; }
  .subs { margin: 2px 0; font-size: 13px; }
  .state { font-weight: 700; }
  .history { margin: 0; font-size: 13px; }
  .act textarea { width: 100%; box-sizing: border-box; font: inherit; }
  .act .buttons { display: flex; gap: 8px; margin-top: 4px; }
  .act button { padding: 6px 10px; cursor: pointer; }
  .err { color: #b91c1c; font-size: 13px; }
  .notice { font-size: 12px; color: #92400e; }
  #devices { list-style: none; display: flex; flex-wrap: wrap; gap: 8px; padding: 0; margin: 0 0 12px; font-size: 13px; }
  #devices .dev { background: #fff; border-radius: 4px; padding: 3px 8px; border-left: 4px solid #047857; }
  #devices .dev.off { border-left-color: #b91c1c; }
</style>
</head>
<body>
<header><h1>ALPR dispatch console — hits</h1>
${opts.user ? `<span>Signed in as <b id="user">${esc(opts.user)}</b></span>` : opts.needName ? '<label>Dispatcher <input id="by" data-testid="dispatcher" autocomplete="username" required></label>' : ''}
<span id="status">connecting…</span></header>
<main>${opts.devices}<div id="hits">${cards.length ? cards.join('\n') : '<div class="empty" id="empty">No hits yet.</div>'}</div></main>
<script>
(() => {
  const list = document.getElementById('hits');
  const byInput = document.getElementById('by');
  if (byInput) { byInput.value = localStorage.getItem('dispatcher') || ''; byInput.addEventListener('change', () => localStorage.setItem('dispatcher', byInput.value.trim())); }
  function fragment(html) { const t = document.createElement('template'); t.innerHTML = html.trim(); return t.content.firstElementChild; }
  function put(hitId, html, prepend) {
    const card = fragment(html);
    const old = list.querySelector('[data-hit-id="' + CSS.escape(hitId) + '"]');
    if (old) old.replaceWith(card); else if (prepend) { document.getElementById('empty')?.remove(); list.prepend(card); }
    tick();
  }
  function age(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }
  function tick() { const now = Date.now(); for (const e of document.querySelectorAll('.age')) e.textContent = age(now - Number(e.dataset.captured)); }
  setInterval(tick, 1000); tick();
  list.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const card = form.closest('[data-hit-id]');
    const err = form.querySelector('.err');
    const reason = form.elements.reason.value.trim();
    const by = byInput ? byInput.value.trim() : '';
    if (!reason) { err.textContent = 'Give a reason.'; return; }
    if (byInput && !by) { err.textContent = 'Enter your name as dispatcher (top right).'; byInput.focus(); return; }
    const disposition = ev.submitter ? ev.submitter.value : '';
    for (const b of form.querySelectorAll('button')) b.disabled = true;
    try {
      const res = await fetch('/api/hits/' + encodeURIComponent(card.dataset.hitId) + '/disposition', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ disposition, reason, by }) });
      const body = await res.json();
      if (!res.ok) throw new Error(body.error || res.statusText);
      put(card.dataset.hitId, body.html, false);
    } catch (e) {
      err.textContent = 'Not sent: ' + e.message;
      for (const b of form.querySelectorAll('button')) b.disabled = false;
    }
  });
  const es = new EventSource('/api/events');
  es.onopen = () => { document.getElementById('status').textContent = 'live'; };
  es.onerror = () => { document.getElementById('status').textContent = 'reconnecting…'; };
  es.addEventListener('hit', (e) => { const d = JSON.parse(e.data); put(d.hitId, d.html, true); });
  es.addEventListener('disposition', (e) => { const d = JSON.parse(e.data); put(d.hitId, d.html, false); });
  es.addEventListener('devices', (e) => { document.getElementById('devices').replaceWith(fragment(JSON.parse(e.data).html)); });
})();
</script>
</body>
</html>
`;
}
