/**
 * The technician's health page (P13), rendered on the server from the status snapshot: cameras
 * with thumbnails, fps, drops and a reads-per-hour chart (inline SVG), hot list, certificate,
 * outbox, disk, clock, GPS. Whatever the snapshot does not carry is shown as "n/a".
 */
import type { StatusSnapshot } from '../types.ts';
import { esc } from './html.ts';

const NA = '<span class="na">n/a</span>';

function hours(ms: number): string {
  return ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`;
}

function bytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : `${Math.round(n / 1e6)} MB`;
}

/** A bar chart of reads per hour, oldest bar first. */
export function readsChart(series: readonly number[]): string {
  const w = 300;
  const h = 80;
  const max = Math.max(1, ...series);
  const bw = w / Math.max(1, series.length);
  const bars = series.map((v, i) => {
    const bh = Math.round((v / max) * (h - 14));
    return `<rect x="${(i * bw + 1).toFixed(1)}" y="${h - bh}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh}" fill="#2563eb"><title>${esc(v)} reads</title></rect>`;
  }).join('');
  const axis = `<text x="2" y="10" font-size="10">max ${esc(max)}/h</text><text x="${w - 2}" y="10" font-size="10" text-anchor="end">last ${series.length} h → now</text>`;
  return `<svg class="chart" role="img" aria-label="reads per hour, last ${series.length} hours" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${axis}${bars}</svg>`;
}

export function healthBody(s: StatusSnapshot & { tamperLocked?: boolean }, now: number): string {
  const cams = s.cameras.map((c) => `<div class="card" data-testid="camera">
<h3>${esc(c.id)} <small>${c.state !== undefined ? esc(c.state) : NA}</small></h3>
<img class="thumb" src="/api/cameras/${encodeURIComponent(c.id)}/thumbnail" alt="latest frame of ${esc(c.id)}">
<table><tr><th>fps</th><td>${c.fps !== undefined ? esc(c.fps.toFixed(1)) : NA}</td></tr>
<tr><th>frames dropped</th><td>${c.framesDropped !== undefined ? esc(c.framesDropped) : NA}</td></tr>
<tr><th>reads per hour</th><td>${c.readsPerHour?.length ? readsChart(c.readsPerHour) : NA}</td></tr></table>
</div>`).join('\n');
  const hl = s.hotlist;
  const cert = s.certificate;
  const certDays = cert?.notAfter !== undefined ? Math.floor((cert.notAfter - now) / 86_400_000) : undefined;
  const rows: [string, string][] = [
    ['Hot list', hl?.version !== undefined ? `${esc(hl.version)}${hl.ageMs !== undefined ? `, ${hours(hl.ageMs)} old` : ''}${hl.stale ? ' <span class="bad">STALE</span>' : ''}` : NA],
    ['Certificate', cert?.notAfter !== undefined ? `${esc(cert.subject ?? '')} ${cert.source ? `(${esc(cert.source)})` : ''} expires ${esc(new Date(cert.notAfter).toISOString().slice(0, 10))} <span class="${(certDays ?? 0) < 30 ? 'bad' : 'good'}">(${esc(certDays)} days)</span>${cert.note ? ` <span class="bad">${esc(cert.note)}</span>` : ''}` : NA],
    ['Outbox depth', s.outboxDepth !== undefined ? esc(s.outboxDepth) : NA],
    ['Disk', s.disk ? `${bytes(s.disk.freeBytes)} free of ${bytes(s.disk.totalBytes)} (${Math.round((100 * s.disk.freeBytes) / Math.max(1, s.disk.totalBytes))}%)` : NA],
    ['Clock', s.clock ? `${esc(new Date(s.clock.now).toISOString())} ${s.clock.status ? `(${esc(s.clock.status)})` : ''}` : NA],
    ['GPS', s.gps ? (s.gps.fix ? `fix ${esc(s.gps.lat?.toFixed(5) ?? '?')}, ${esc(s.gps.lon?.toFixed(5) ?? '?')}` : '<span class="bad">no fix</span>') : NA],
    ['Tamper lock', s.tamperLocked ? '<span class="bad">LOCKED — data pages refused until an admin clears it</span>' : '<span class="good">clear</span>'],
  ];
  if (s.versions) rows.push(['Versions', Object.entries(s.versions).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(', ')]);
  return `<div class="cards">${cams || NA}</div>
<h2>Device</h2>
<table id="device-health">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}
