/**
 * The evaluation's HTML report: one self-contained page (styles inline, images as small JPEG data
 * URLs of plate regions only, never whole scenes) with the summary figures, the kinds of mistake,
 * the character confusions, the images with false hits and a gallery of every misread.
 */
import { align, classifyMisread, countConfusions, type ConfusionCount, type MisreadKind } from './confusions.ts';
import { shrinkJpeg, thumbnailJpeg } from './decode.ts';
import type { EvalMetrics } from './metrics.ts';
import type { ImageInspector } from './runner.ts';

export interface Misread {
  readonly file: string;
  readonly truth: string;
  /** The read scored against the truth; absent when nothing was read (or on an error). */
  readonly read?: string;
  readonly confidence?: number;
  readonly candidates: readonly string[];
  readonly kind: MisreadKind | 'error';
  readonly error?: string;
  /** data: URL of the plate region of the input image. */
  readonly input?: string;
  /** data: URL of the recogniser's own crop of the chosen read. */
  readonly crop?: string;
}

const THUMB_W = 240;
const THUMB_H = 120;

const dataUrl = (jpeg: Uint8Array): string => `data:image/jpeg;base64,${Buffer.from(jpeg).toString('base64')}`;

/** Collects misreads (with thumbnails) while the evaluation runs; use `inspect` as the runner's hook. */
export class ReportCollector {
  readonly misreads: Misread[] = [];
  /** (truth, read) of every plate whose chosen read overlaps it, for the confusion table. */
  readonly pairs: [string, string][] = [];
  /** Images whose reads hit a hot-list entry that is none of their plates. */
  readonly falseHits: { readonly file: string; readonly truths: readonly string[]; readonly reads: readonly string[]; readonly entries: readonly string[] }[] = [];

  readonly inspect: ImageInspector = async (sample, outcome, image, reads) => {
    if (outcome.error !== undefined || !outcome.score) {
      for (const t of sample.truths) this.misreads.push({ file: sample.file, truth: t.plate, candidates: [], kind: 'error', error: outcome.error ?? 'not scored' });
      return;
    }
    if (outcome.score.falseHits.length) {
      this.falseHits.push({
        file: sample.file, truths: sample.truths.map((t) => t.plate), entries: outcome.score.falseHits,
        reads: outcome.reads.map((r) => `${r.text} (${(r.votes ?? []).map((v) => `${v.text} ${v.score.toFixed(2)}`).join(', ')})`),
      });
    }
    for (const ts of outcome.score.truths) {
      const chosen = ts.chosen !== undefined ? outcome.reads[ts.chosen] : undefined;
      const overlaps = ts.iou === undefined || ts.iou > 0;
      if (chosen && overlaps) this.pairs.push([ts.truth.plate, chosen.text]);
      if (ts.exact) continue;
      const crop = ts.chosen !== undefined ? reads[ts.chosen]?.crop : undefined;
      this.misreads.push({
        file: sample.file,
        truth: ts.truth.plate,
        ...(chosen && { read: chosen.text, confidence: chosen.confidence }),
        candidates: chosen?.candidates ?? [],
        kind: classifyMisread(ts.truth.plate, chosen?.text, overlaps),
        ...(image && { input: dataUrl(await thumbnailJpeg(image, THUMB_W, THUMB_H, ts.truth.box)) }),
        ...(crop && crop.length > 0 && { crop: dataUrl(await shrinkJpeg(crop, THUMB_W, THUMB_H)) }),
      });
    }
  };

  kinds(): { kind: string; count: number }[] {
    const counts = new Map<string, number>();
    for (const m of this.misreads) counts.set(m.kind, (counts.get(m.kind) ?? 0) + 1);
    return [...counts.entries()].map(([kind, count]) => ({ kind, count })).sort((a, b) => b.count - a.count);
  }

  confusions(): ConfusionCount[] {
    return countConfusions(this.pairs);
  }
}

export interface ReportMeta {
  readonly dataset: string;
  readonly format: string;
  readonly pack: string;
  readonly modelVersion: string;
  readonly createdAt: string;
  readonly hotlistSize: number;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (v: number | null): string => (v === null ? '—' : `${(100 * v).toFixed(1)}%`);

/** The read with its differences from the truth marked. */
function diffHtml(truth: string, read: string): string {
  return align(truth, read)
    .map((op) => {
      switch (op.op) {
        case 'match':
          return esc(op.read);
        case 'sub':
          return `<span class="sub" title="${esc(op.truth)} read as ${esc(op.read)}">${esc(op.read)}</span>`;
        case 'del':
          return `<span class="del" title="${esc(op.truth)} not read">${esc(op.truth)}</span>`;
        case 'ins':
          return `<span class="ins" title="extra ${esc(op.read)}">${esc(op.read)}</span>`;
      }
    })
    .join('');
}

function card(m: Misread): string {
  const img = (src: string | undefined, alt: string): string => (src ? `<img src="${src}" alt="${esc(alt)}">` : '');
  const readLine =
    m.read !== undefined
      ? `<div class="read">${diffHtml(m.truth, m.read)} <small>${(m.confidence ?? 0).toFixed(2)}</small></div>`
      : `<div class="read none">${esc(m.kind === 'error' ? (m.error ?? 'error') : 'nothing read')}</div>`;
  const alts = m.candidates.length > 1 ? `<div class="alts">${m.candidates.slice(1).map(esc).join(' · ')}</div>` : '';
  return `<figure class="card">${img(m.input, 'input')}${img(m.crop, 'read crop')}<figcaption><div class="truth">${esc(m.truth)}</div>${readLine}${alts}<div class="kind">${esc(m.kind)}</div><div class="file">${esc(m.file)}</div></figcaption></figure>`;
}

export function renderReport(meta: ReportMeta, metrics: EvalMetrics, collector: ReportCollector): string {
  const rows: [string, string][] = [
    ['images', `${metrics.images}${metrics.errors ? ` (+${metrics.errors} errors)` : ''}`],
    ['exact read rate', pct(metrics.exactRate)],
    ['top-3 read rate', pct(metrics.top3Rate)],
    ['no-plate rate', pct(metrics.noPlateRate)],
    [`hit recall (hot list of ${meta.hotlistSize.toLocaleString('en-US')})`, pct(metrics.hitRecall)],
    ['false-hit rate (per image)', pct(metrics.falseHitRate)],
    ['state rate', pct(metrics.stateRate)],
    ['recognise ms, median / p95', `${metrics.medianMs} / ${metrics.p95Ms}`],
    ['decode ms, median', `${metrics.decodeMs}`],
  ];
  const kinds = collector.kinds();
  const confusions = collector.confusions();
  const misreads = [...collector.misreads].sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.file < b.file ? -1 : 1));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>alpr eval — ${esc(meta.dataset)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse}td,th{padding:.2rem .7rem;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:flex;flex-wrap:wrap;gap:.8rem}
.card{margin:0;width:250px;border:1px solid #ccc;border-radius:6px;padding:5px;background:#fafafa}
.card img{display:block;max-width:240px;max-height:120px;margin:0 auto 4px}
.truth,.read{font:600 1.05rem ui-monospace,monospace}.truth{color:#2a6a2a}.read small{font-weight:400;color:#666}
.read.none{color:#a00;font:italic .9rem system-ui}
.sub{background:#fbb}.del{background:#ddd;text-decoration:line-through}.ins{background:#bdf}
.alts{font:.8rem ui-monospace,monospace;color:#666}.kind{font-size:.8rem;color:#555}.file{font-size:.7rem;color:#999;word-break:break-all}
</style></head><body>
<h1>Plate recognition: ${esc(meta.dataset)} (${esc(meta.format)})</h1>
<p>Pack <b>${esc(meta.pack)}</b> — model ${esc(meta.modelVersion)} — ${esc(meta.createdAt)}</p>
<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td class="n">${esc(v)}</td></tr>`).join('')}</table>
<h2>Kinds of misread</h2>
<table><tr><th>kind</th><th>plates</th></tr>${kinds.map((k) => `<tr><td>${esc(k.kind)}</td><td class="n">${k.count}</td></tr>`).join('')}</table>
<h2>Character confusions</h2>
<p>Truth aligned with the read by edit distance, over plates whose read overlaps the plate. <code>A→B</code>: A read as B; <code>−A</code>: A not read; <code>+B</code>: B read where there is nothing.</p>
<table><tr><th>confusion</th><th>truth</th><th>read</th><th>count</th></tr>${confusions
    .map((c) => `<tr><td>${esc(c.label)}</td><td>${esc(c.truth || '—')}</td><td>${esc(c.read || '—')}</td><td class="n">${c.count}</td></tr>`)
    .join('')}</table>
<h2>False hits (${collector.falseHits.length} image${collector.falseHits.length === 1 ? '' : 's'})</h2>
<p>Reads, with the candidates the gateway matches and their share of the vote, that hit a hot-list entry which is none of the image's plates.</p>
<table><tr><th>image</th><th>plates</th><th>entries hit</th><th>reads</th></tr>${collector.falseHits
    .map((f) => `<tr><td class="file">${esc(f.file)}</td><td>${esc(f.truths.join(', '))}</td><td>${esc(f.entries.join(', '))}</td><td>${esc(f.reads.join('; '))}</td></tr>`)
    .join('')}</table>
<h2>Misreads (${misreads.length})</h2>
<div class="grid">${misreads.map(card).join('\n')}</div>
</body></html>
`;
}
