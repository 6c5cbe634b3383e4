/** The dispatcher's page: a live list of hits, newest first, each with its plate crop. */
export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ALPR dispatch — hits</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f3f4f6; color: #111; }
  header { background: #1f2937; color: #fff; padding: 12px 20px; display: flex; justify-content: space-between; align-items: center; }
  header h1 { font-size: 18px; margin: 0; }
  #status { font-size: 13px; opacity: .85; }
  main { padding: 16px 20px; }
  .empty { color: #555; padding: 24px; }
  .hit { background: #fff; border-left: 6px solid #b91c1c; border-radius: 6px; padding: 12px; margin-bottom: 12px; display: grid; grid-template-columns: 260px 1fr 320px; gap: 16px; align-items: center; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  .hit img.plate { width: 240px; border: 1px solid #ccc; background: #eee; }
  .hit img.overview { width: 300px; border: 1px solid #ccc; background: #eee; }
  .plate-text { font: bold 30px ui-monospace, monospace; letter-spacing: 2px; }
  .list { display: inline-block; background: #b91c1c; color: #fff; border-radius: 4px; padding: 2px 8px; font-size: 13px; text-transform: uppercase; }
  .meta { font-size: 13px; color: #374151; margin-top: 6px; line-height: 1.5; }
  .notice { font-size: 12px; color: #92400e; margin-top: 6px; }
</style>
</head>
<body>
<header><h1>ALPR dispatch console — hits</h1><span id="status">connecting…</span></header>
<main><div id="hits"><div class="empty" id="empty">No hits yet.</div></div></main>
<script>
  const list = document.getElementById('hits');
  const seen = new Set();
  function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function render(h) {
    if (seen.has(h.hitId)) return;
    seen.add(h.hitId);
    document.getElementById('empty')?.remove();
    const card = el('div', 'hit'); card.dataset.hitId = h.hitId; card.setAttribute('data-testid', 'hit');
    const left = el('div');
    const img = el('img', 'plate'); img.src = h.plateImage; img.alt = 'plate crop for ' + h.plate; left.append(img);
    const mid = el('div');
    mid.append(el('div', 'plate-text', h.plate + (h.state ? ' (' + h.state.toUpperCase() + ')' : '')));
    mid.append(el('span', 'list', h.match.listType));
    const when = new Date(h.capturedAt);
    mid.append(el('div', 'meta',
      'Camera ' + h.cameraId + ' · ' + h.site + ' · device ' + h.deviceId + '\\n'));
    mid.append(el('div', 'meta', 'Seen ' + when.toLocaleTimeString() + ' · delivered in ' + (h.latencyMs / 1000).toFixed(1) + ' s · read confidence ' + Math.round(h.confidence * 100) + '% · ' + h.match.kind + ' match to ' + h.match.listedPlate));
    if (h.match.listAgeMs !== null) mid.append(el('div', h.match.listStale ? 'notice' : 'meta', 'Hot list ' + (h.match.listAgeMs / 3600000).toFixed(1) + ' h old' + (h.match.listStale ? ' — STALE: confirm the entry is still active' : '')));
    mid.append(el('div', 'notice', 'Alert only: verify the plate image and confirm with the entering agency before acting.'));
    const right = el('div');
    if (h.overviewImage) { const o = el('img', 'overview'); o.src = h.overviewImage; o.alt = 'overview'; right.append(o); }
    card.append(left, mid, right);
    list.prepend(card);
  }
  fetch('/api/hits').then(r => r.json()).then(hs => hs.reverse().forEach(render));
  const es = new EventSource('/api/events');
  es.onopen = () => { document.getElementById('status').textContent = 'live'; };
  es.onerror = () => { document.getElementById('status').textContent = 'reconnecting…'; };
  es.addEventListener('hit', (e) => render(JSON.parse(e.data)));
</script>
</body>
</html>
`;
