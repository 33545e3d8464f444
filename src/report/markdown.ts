// Report renderers are pure functions of the report data.
import type { CompressReport } from './build.js';
import { BROWSER_HEAD, browserRows, candidateFigures, describeAgreement, describeTolerances, judgedCandidate, qualityDetail } from './text.js';
import { formatBytes } from '../format.js';
import { describeCheck } from '../verdict.js';

const ms = (v?: number) => (v === undefined ? '-' : v.toFixed(3));

/** A summary fit for a pull-request comment. */
export function renderMarkdown(r: CompressReport): string {
  const lines = [
    `## onnxpress ${r.verdict.pass ? 'PASS ✅' : 'FAIL ❌'} — \`${r.model}\` for **${r.target.name}**`,
    '',
    `Tolerances: ${describeTolerances(r)}.${r.latencyNotJudged ? ` Latency has no default on ${r.target.name}: ${r.latencyNotJudged}.` : ''}`,
    '',
    '| model | size | brotli | p50 ms | latency x (95% CI) | accuracy | min cosine | top-1 agreement | verdict |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    `| original | ${formatBytes(r.original.bytes)} | ${formatBytes(r.original.brotliBytes)} | ${ms(r.original.latencyMs?.p50)} | 1 | ${r.candidates[0]?.accuracy ? r.candidates[0].accuracy.reference.toFixed(2) + '%' : '-'} | 1 | 1 | |`,
  ];
  for (const c of r.candidates) {
    const f = candidateFigures(c, r.original.bytes);
    lines.push(`| ${c.recipe}${c.recipe === r.chosen ? ' **(chosen)**' : ''} | ${formatBytes(c.bytes)} (${(r.original.bytes / c.bytes).toFixed(2)}x smaller) | ${formatBytes(c.brotliBytes)} | ${ms(c.latencyMs?.p50)} | ${f.latencyRatio} | ${f.top1} | ${f.minCosine} | ${f.top1Agreement} | ${c.verdict.pass ? 'pass' : `fail: ${c.verdict.failed.map((k) => k.metric).join(', ')}`} |`);
  }
  const browser = browserRows(r);
  if (browser.length) {
    lines.push('', `In headless Chromium (cold: session creation + first runs; the verdict reads \`${r.bench.browserBuild}\` steady state):`, '', `| ${BROWSER_HEAD.join(' | ')} |`, '|---|---|---:|---:|---:|---:|');
    for (const row of browser) lines.push(`| ${row.join(' | ')} |`);
  }
  if (r.agreement) lines.push('', ...describeAgreement(r.agreement).map((l) => `- ${l}`));
  for (const n of r.notBuilt) lines.push('', `Not built: **${n.recipe}**: ${n.reason}`);
  lines.push('', `Checks (${r.data.evalSamples} held-out samples, ${r.data.calibrationSamples} for calibration; ${r.bench.backend}, ${r.bench.threads} thread(s), ${r.bench.runs} runs):`, '');
  for (const c of r.verdict.checks) lines.push(`- ${c.pass ? '✅' : '❌'} ${describeCheck(c)}`);
  const chosen = r.candidates.find((c) => c.recipe === r.chosen);
  const judgedOne = judgedCandidate(r);
  const detail = judgedOne ? qualityDetail(judgedOne) : [];
  if (detail.length) lines.push('', `Per class, slice and range (\`${judgedOne!.recipe}\`):`, '', ...detail.map((d) => `- ${d}`));
  if (r.optimize || chosen?.steps.length) {
    lines.push('', 'Steps:', '');
    if (r.optimize) lines.push(`- optimize: ${r.optimize.nodesBefore} -> ${r.optimize.nodesAfter} nodes${r.optimize.passes.length ? ` (${r.optimize.passes.join(', ')})` : ''}`);
    for (const step of chosen?.steps ?? []) lines.push(`- ${step}`);
  }
  const errors = chosen?.pruneErrors ?? [];
  if (errors.length) {
    lines.push('', 'Pruned layers, output error on the calibration data (relative MSE) before -> after reconstruction:', '');
    for (const e of errors.slice(0, 30)) lines.push(`- \`${e.name}\`: ${e.before.toExponential(2)} -> ${e.after.toExponential(2)} (${e.update})`);
    if (errors.length > 30) lines.push(`- ... and ${errors.length - 30} more (report.json lists all)`);
  }
  const kept = chosen?.keptInFloat ?? [];
  if (kept.length) lines.push('', `Kept in float by the accuracy fallback: ${kept.map((k) => `\`${k}\``).join(', ')}`);
  const wide = chosen?.widened ?? [];
  if (wide.length) lines.push('', `16-bit activations from the accuracy fallback: ${wide.map((k) => `\`${k}\``).join(', ')}`);
  for (const w of r.warnings) lines.push('', `> ${w}`);
  return lines.join('\n') + '\n';
}
