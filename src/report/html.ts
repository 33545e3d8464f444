// A self-contained HTML report: inline CSS and SVG charts, no scripts, no network.
import type { CandidateReport, CompressReport } from './build.js';
import { BROWSER_HEAD, browserRows, candidateFigures, describeAgreement, describeTolerances, judgedCandidate, qualityDetail } from './text.js';
import { formatBytes } from '../format.js';
import { describeCheck } from '../verdict.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Bar { label: string; value: number; text: string; highlight?: boolean }

function barChart(title: string, bars: Bar[]): string {
  // 260px right of the longest bar hold its text.
  const w = 760, rowH = 26, left = 230, max = Math.max(...bars.map((b) => b.value), 1e-12);
  const rows = bars.map((b, i) => {
    const len = Math.max(1, ((w - left - 260) * b.value) / max);
    return `<text x="${left - 8}" y="${i * rowH + 17}" text-anchor="end">${esc(b.label)}</text><rect x="${left}" y="${i * rowH + 4}" width="${len.toFixed(1)}" height="18" fill="${b.highlight ? '#2b7a3d' : '#4a6fa5'}"/><text x="${left + len + 6}" y="${i * rowH + 17}">${esc(b.text)}</text>`;
  });
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${w} ${bars.length * rowH + 8}" width="${w}" role="img" aria-label="${esc(title)}">${rows.join('')}</svg></figure>`;
}

/** Recall change per class, diverging from zero (losses red, left; gains green, right): a class the average hides shows here. */
function classDeltaChart(c: CandidateReport): string {
  const deltas = [...(c.classes?.deltas ?? [])].sort((a, b) => a.label - b.label);
  if (!deltas.length) return '';
  const w = 760, rowH = 22, left = 150, half = (w - left - 230) / 2, mid = left + half;
  const max = Math.max(1, ...deltas.map((d) => Math.abs(d.recallDrop)));
  const rows = deltas.map((d, i) => {
    const change = -d.recallDrop, len = Math.max(1, (half * Math.abs(change)) / max), y = i * rowH;
    const x = change < 0 ? mid - len : mid;
    return `<text x="${left - 8}" y="${y + 15}" text-anchor="end">class ${d.label} (n=${d.support})</text><rect x="${x.toFixed(1)}" y="${y + 3}" width="${len.toFixed(1)}" height="16" fill="${change < 0 ? '#b3261e' : '#2b7a3d'}"/><text x="${mid + half + 8}" y="${y + 15}">${change >= 0 ? '+' : ''}${change.toFixed(1)} pt (${(100 * d.referenceRecall).toFixed(1)}% -> ${(100 * d.candidateRecall).toFixed(1)}%)</text>`;
  });
  const axis = `<line x1="${mid}" y1="0" x2="${mid}" y2="${deltas.length * rowH + 4}" stroke="#333"/>`;
  const title = `Recall change per class, ${c.recipe} (points; axis ±${max.toFixed(1)}); macro F1 ${c.classes!.reference.macroF1.toFixed(4)} -> ${c.classes!.candidate.macroF1.toFixed(4)}`;
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${w} ${deltas.length * rowH + 8}" width="${w}" role="img" aria-label="recall change per class">${axis}${rows.join('')}</svg></figure>`;
}

/** Latency distribution: a box (p25-p75), whiskers (min, p99) and median per model. */
function latencyChart(series: { label: string; samples: number[] }[]): string {
  const w = 640, rowH = 30, left = 230;
  const all = series.flatMap((s) => s.samples);
  const q = (s: number[], p: number) => { const a = [...s].sort((m, n) => m - n); return a[Math.min(a.length - 1, Math.floor(p * (a.length - 1)))]!; };
  if (!all.length) return '';
  // The axis ends at the largest p99 so that one stray sample does not flatten every box.
  const max = Math.max(...series.filter((s) => s.samples.length).map((s) => q(s.samples, 0.99))) * 1.05;
  const x = (v: number) => left + ((w - left - 20) * Math.min(v, max)) / max;
  const rows = series.map((s, i) => {
    const y = i * rowH + 6;
    const [mn, p25, p50, p75, p99] = [Math.min(...s.samples), q(s.samples, 0.25), q(s.samples, 0.5), q(s.samples, 0.75), q(s.samples, 0.99)];
    return `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${esc(s.label)}</text><line x1="${x(mn)}" x2="${x(p99)}" y1="${y + 10}" y2="${y + 10}" stroke="#555"/><rect x="${x(p25)}" y="${y}" width="${Math.max(1, x(p75) - x(p25))}" height="20" fill="#c9d7ea" stroke="#4a6fa5"/><line x1="${x(p50)}" x2="${x(p50)}" y1="${y}" y2="${y + 20}" stroke="#111" stroke-width="2"/>`;
  });
  return `<figure><figcaption>Latency distribution (ms; box p25-p75, line median, whisker min-p99; axis 0-${max.toFixed(3)} ms)</figcaption><svg viewBox="0 0 ${w} ${series.length * rowH + 10}" width="${w}" role="img" aria-label="latency distribution">${rows.join('')}</svg></figure>`;
}

/** Size against latency, one point per candidate, labelled with accuracy: the Pareto view. */
function paretoChart(r: CompressReport): string {
  // score: higher is more faithful (top-1 with labels, else the worst output cosine).
  type Point = { label: string; bytes: number; ms: number; acc: string; score: number };
  const minCos = (c: CompressReport['candidates'][number]) => Math.min(...Object.values(c.outputs).map((o) => o.cosine));
  const refScore = r.candidates[0]?.accuracy ? r.candidates[0].accuracy.reference : 1;
  const pts: Point[] = [
    { label: 'original', bytes: r.original.bytes, ms: r.original.latencyMs?.p50 ?? 0, acc: 'reference', score: refScore },
    ...r.candidates.map((c) => ({ label: c.recipe, bytes: c.bytes, ms: c.latencyMs?.p50 ?? 0, acc: c.accuracy ? `${c.accuracy.candidate.toFixed(2)}%` : `cos ${minCos(c).toFixed(6)}`, score: c.accuracy ? c.accuracy.candidate : minCos(c) })),
  ];
  const w = 640, h = 320, pad = 50;
  const maxB = Math.max(...pts.map((p) => p.bytes)) * 1.1, maxMs = Math.max(...pts.map((p) => p.ms)) * 1.1 || 1;
  const dominated = (p: Point) => pts.some((q) => q !== p && q.bytes <= p.bytes && q.ms <= p.ms && q.score >= p.score && (q.bytes < p.bytes || q.ms < p.ms || q.score > p.score));
  const dots = pts.map((p, i) => {
    const cx = pad + ((w - 2 * pad) * p.bytes) / maxB, cy = h - pad - ((h - 2 * pad) * p.ms) / maxMs;
    const color = p.label === 'original' ? '#999' : p.label === r.chosen ? '#2b7a3d' : '#4a6fa5';
    // Points are numbered and named in the legend below: names beside close points would overlap.
    return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="6" fill="${dominated(p) ? '#fff' : color}" stroke="${color}" stroke-width="2"/><text x="${(cx + 9).toFixed(1)}" y="${(cy + 4 - 12 * (i % 2)).toFixed(1)}">${i}</text>`;
  });
  const legend = pts.map((p, i) => `<li value="${i}">${esc(p.label)}: ${esc(formatBytes(p.bytes))}, ${p.ms.toFixed(3)} ms, ${esc(p.acc)}${dominated(p) ? ' (dominated)' : ''}</li>`).join('');
  return `<figure><figcaption>Size / latency / accuracy (lower left is better; hollow points are beaten on all three by another point)</figcaption><svg viewBox="0 0 ${w} ${h}" width="${w}" role="img" aria-label="pareto chart"><line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#333"/><text x="${w / 2}" y="${h - 12}" text-anchor="middle">size (0-${esc(formatBytes(maxB))})</text><text x="14" y="${h / 2}" transform="rotate(-90 14 ${h / 2})" text-anchor="middle">p50 latency (0-${maxMs.toFixed(3)} ms)</text>${dots.join('')}</svg><ol start="0">${legend}</ol></figure>`;
}

/** What was done to the chosen candidate, and what the fallback kept in float. */
function steps(r: CompressReport): string {
  const chosen = r.candidates.find((c) => c.recipe === r.chosen);
  const items = [
    ...(r.optimize ? [`optimize: ${r.optimize.nodesBefore} -> ${r.optimize.nodesAfter} nodes${r.optimize.passes.length ? ` (${r.optimize.passes.join(', ')})` : ''}`] : []),
    ...(chosen?.steps ?? []),
    ...(chosen?.keptInFloat.length ? [`kept in float by the accuracy fallback: ${chosen.keptInFloat.join(', ')}`] : []),
    ...(chosen?.widened?.length ? [`16-bit activations from the accuracy fallback: ${chosen.widened.join(', ')}`] : []),
  ];
  return items.length ? `<h2>Steps</h2><ol>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ol>` : '';
}

export function renderHtml(r: CompressReport): string {
  const chosen = r.candidates.find((c) => c.recipe === r.chosen);
  const judged = judgedCandidate(r);
  const outputs = Object.keys(r.candidates[0]?.outputs ?? {});
  // Cosines of good candidates all sit near 1, where bars of the cosine itself look equal: draw the distance from 1.
  const accuracyBars: Bar[] = r.candidates.flatMap((c) => outputs.map((o) => ({ label: `${c.recipe}: ${o}`, value: 1 - c.outputs[o]!.cosine, text: `cosine ${c.outputs[o]!.cosine.toFixed(6)}${c.accuracy ? `, top-1 ${c.accuracy.candidate.toFixed(2)}%` : ''}`, highlight: c === chosen })));
  const sizeBars: Bar[] = [{ label: 'original', value: r.original.bytes, text: formatBytes(r.original.bytes) }, ...r.candidates.map((c) => ({ label: c.recipe, value: c.bytes, text: `${formatBytes(c.bytes)} (${(r.original.bytes / c.bytes).toFixed(2)}x smaller)`, highlight: c === chosen }))];
  const checks = r.verdict.checks.map((c) => `<li class="${c.pass ? 'ok' : 'bad'}">${c.pass ? '✔' : '✘'} ${esc(describeCheck(c))}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>onnxpress report: ${esc(r.model)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem}.verdict{font-weight:700;padding:.2rem .6rem;border-radius:4px;color:#fff}
.pass{background:#2b7a3d}.fail{background:#b3261e}li.ok{color:#2b7a3d}li.bad{color:#b3261e}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}th:first-child,td:first-child{text-align:left}
figure{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.3rem}svg text{font-size:12px;fill:#222}
</style></head><body>
<h1>${esc(r.model)} for ${esc(r.target.name)} <span class="verdict ${r.verdict.pass ? 'pass' : 'fail'}">${r.verdict.pass ? 'PASS' : 'FAIL'}</span></h1>
<p>${esc(r.target.description)}. ${esc(r.target.assumes)}</p>
<p>Tolerances: ${esc(describeTolerances(r))}.${r.latencyNotJudged ? ` Latency has no default on ${esc(r.target.name)}: ${esc(r.latencyNotJudged)}.` : ''}</p>
<ul>${checks}</ul>
${steps(r)}
<table><tr><th>model</th><th>size</th><th>gzip</th><th>brotli</th><th>p50 ms</th><th>p90 ms</th><th>latency x (95% CI)</th><th>accuracy</th><th>min cosine</th><th>top-1 agreement</th></tr>
<tr><td>original</td><td>${formatBytes(r.original.bytes)}</td><td>${formatBytes(r.original.gzipBytes)}</td><td>${formatBytes(r.original.brotliBytes)}</td><td>${r.original.latencyMs?.p50.toFixed(3) ?? '-'}</td><td>${r.original.latencyMs?.p90.toFixed(3) ?? '-'}</td><td>1</td><td>${r.candidates[0]?.accuracy ? r.candidates[0].accuracy.reference.toFixed(2) + '%' : '-'}</td><td>1</td><td>1</td></tr>
${r.candidates.map((c) => { const f = candidateFigures(c, r.original.bytes); return `<tr><td>${esc(c.recipe)}${c === chosen ? ' (chosen)' : ''}</td><td>${formatBytes(c.bytes)}</td><td>${formatBytes(c.gzipBytes)}</td><td>${formatBytes(c.brotliBytes)}</td><td>${c.latencyMs?.p50.toFixed(3) ?? '-'}</td><td>${c.latencyMs?.p90.toFixed(3) ?? '-'}</td><td>${f.latencyRatio}</td><td>${f.top1}</td><td>${f.minCosine}</td><td>${f.top1Agreement}</td></tr>`; }).join('\n')}
</table>
${r.notBuilt.map((n) => `<p>Not built: <strong>${esc(n.recipe)}</strong>: ${esc(n.reason)}</p>`).join('')}
${browserRows(r).length ? `<h2>In headless Chromium</h2><p>Cold: session creation and the first runs in a fresh browser; the verdict reads the ${esc(r.bench.browserBuild ?? '')} build's steady state.</p><table><tr>${BROWSER_HEAD.map((h) => `<th>${h}</th>`).join('')}</tr>${browserRows(r).map((row) => `<tr>${row.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('')}</table>` : ''}
${r.agreement ? `<ul>${describeAgreement(r.agreement).map((l) => `<li>${esc(l)}</li>`).join('')}</ul>` : ''}
${barChart('Size', sizeBars)}
${latencyChart([{ label: 'original', samples: r.original.samplesMs ?? [] }, ...r.candidates.map((c) => ({ label: c.recipe, samples: c.samplesMs ?? [] }))])}
${barChart('Error per output: 1 - cosine similarity to the original (shorter is better)', accuracyBars)}
${judged ? classDeltaChart(judged) : ''}
${judged && qualityDetail(judged).length ? `<ul>${qualityDetail(judged).map((l) => `<li>${esc(l)}</li>`).join('')}</ul>` : ''}
${r.candidates.length > 1 ? paretoChart(r) : ''}
<p>${r.data.evalSamples} evaluation samples, ${r.data.calibrationSamples} calibration samples (held apart)${r.data.generated ? ', generated inputs' : ''}; ${esc(r.bench.backend)} backend, ${r.bench.threads} thread(s), ${r.bench.runs} timed runs per model, interleaved. Report format version ${r.version}, ${esc(r.tool)}.</p>
${r.warnings.map((w) => `<p><em>${esc(w)}</em></p>`).join('')}
</body></html>
`;
}
