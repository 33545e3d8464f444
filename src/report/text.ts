// The terminal view of a report: what a user must see without opening a file. The warnings,
// which tolerances the target supplied and which the user set, every candidate with the
// figures the verdict used, the recipes that could not be built, and each check.
import { formatBytes } from '../format.js';
import { describeCheck, formatValue, TOLERANCE_KEYS } from '../verdict.js';
import type { CandidateReport, CompressReport } from './build.js';
import { worstAgreement, type AgreementReport } from '../measure/agreement.js';

/** The figures the verdict reads, as text: '-' where a figure does not apply. */
export interface CandidateFigures { minCosine: string; top1Agreement: string; top1: string; top1Drop: string; sizeRatio: string; latencyRatio: string }

export function candidateFigures(c: CandidateReport, originalBytes: number): CandidateFigures {
  const cosines = Object.values(c.outputs).map((o) => o.cosine);
  const agreements = Object.values(c.outputs).map((o) => o.top1Agreement).filter((v): v is number => v !== undefined);
  const r = c.latencyRatio;
  return {
    minCosine: cosines.length ? Math.min(...cosines).toFixed(6) : '-',
    top1Agreement: agreements.length ? Math.min(...agreements).toFixed(4) : '-',
    top1: c.accuracy ? `${c.accuracy.candidate.toFixed(2)}%` : '-',
    top1Drop: c.accuracy ? `${(c.accuracy.reference - c.accuracy.candidate).toFixed(2)} pt` : '-',
    sizeRatio: (c.bytes / originalBytes).toFixed(3),
    latencyRatio: r ? `${r.ratio.toFixed(2)}x (${r.ci95[0].toFixed(2)}-${r.ci95[1].toFixed(2)})` : '-',
  };
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** The candidate the verdict speaks of: the one written to the output (reports without `written`, from before it: the chosen one). */
export function judgedCandidate(r: CompressReport): CandidateReport | undefined {
  return r.written !== undefined ? r.candidates[r.written] : r.candidates.find((c) => c.recipe === r.chosen);
}

/** Per-class, per-slice and range-drift lines of one candidate (empty when none was measured). */
export function qualityDetail(c: CandidateReport): string[] {
  const lines: string[] = [];
  if (c.classes) {
    const hurt = c.classes.deltas.filter((d) => d.recallDrop > 0).slice(0, 3);
    const f1 = `macro F1 ${c.classes.reference.macroF1.toFixed(4)} -> ${c.classes.candidate.macroF1.toFixed(4)}`;
    lines.push(`classes: ${f1}; ${hurt.length ? `most hurt: ${hurt.map((d) => `class ${d.label} recall ${pct(d.referenceRecall)} -> ${pct(d.candidateRecall)} (n=${d.support})`).join(', ')}` : 'no class lost recall'}`);
  }
  if (c.slices?.length) {
    lines.push(`slices: ${c.slices.slice(0, 6).map((s) => (s.tooSmall ? `${s.slice} too small to judge (${s.samples} samples)` : `${s.slice} ${s.reference.toFixed(1)}% -> ${s.candidate.toFixed(1)}% (n=${s.samples})`)).join(', ')}${c.slices.length > 6 ? `, and ${c.slices.length - 6} more` : ''}`);
  }
  if (c.clip) {
    const worst = c.clip.tensors[0];
    lines.push(`clip rate: ${pct(c.clip.overall.rate)} of quantized activation values saturate${worst ? `; worst ${worst.tensor} ${(100 * worst.rate).toFixed(2)}%` : ''} (${c.clip.samples} samples)`);
  }
  return lines;
}

/** Each tolerance checked, and whether the user or the target set it. */
export function describeTolerances(r: CompressReport): string {
  const keys = TOLERANCE_KEYS.filter((k) => r.tolerances[k] !== undefined);
  const text = keys.map((k) => `${k} ${k.startsWith('min') ? '>=' : '<='} ${formatValue(k, r.tolerances[k]!)} (${r.defaulted.includes(k) ? `${r.target.name} default` : 'set by you'})`);
  return text.length ? text.join(', ') : 'none';
}

export function renderText(r: CompressReport): string {
  const lines = [`tolerances: ${describeTolerances(r)}`];
  if (r.latencyNotJudged) lines.push(`latency: no default on ${r.target.name}: ${r.latencyNotJudged}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  lines.push('', ...table(r), ...browserTable(r));
  if (r.agreement) lines.push('', ...describeAgreement(r.agreement));
  for (const n of r.notBuilt) lines.push(`not built: ${n.recipe}: ${n.reason}`);
  const judgedOne = judgedCandidate(r);
  if (judgedOne) lines.push(...qualityDetail(judgedOne).map((l) => `${judgedOne.recipe}: ${l}`));
  lines.push('');
  if (r.optimize) lines.push(`optimize: ${r.optimize.nodesBefore} -> ${r.optimize.nodesAfter} nodes${r.optimize.passes.length ? ` (${r.optimize.passes.join(', ')})` : ''}`);
  const chosen = r.candidates.find((c) => c.recipe === r.chosen);
  if (chosen) lines.push(...chosen.steps);
  // A terminal line, not a list: the report files name every node.
  const kept = chosen?.keptInFloat ?? [];
  if (kept.length) lines.push(`kept in float by the accuracy fallback: ${kept.slice(0, 8).join(', ')}${kept.length > 8 ? ` and ${kept.length - 8} more (listed in the report)` : ''}`);
  const wide = chosen?.widened ?? [];
  if (wide.length) lines.push(`16-bit activations from the accuracy fallback: ${wide.slice(0, 8).join(', ')}${wide.length > 8 ? ` and ${wide.length - 8} more (listed in the report)` : ''}`);
  if (lines[lines.length - 1] !== '') lines.push('');
  lines.push(...r.verdict.checks.map((c) => `${c.pass ? 'ok  ' : 'FAIL'} ${describeCheck(c)}`));
  lines.push('', r.verdict.pass ? `PASS${r.chosen ? `: ${r.chosen}` : ''}` : `FAIL: ${r.verdict.failed.map((c) => c.metric).join(', ')}`);
  return lines.join('\n');
}

function table(r: CompressReport): string[] {
  const head = ['model', 'size', 'size x', 'p50 ms', 'latency x (95% CI)', 'min cosine', 'top-1 agree', 'top-1', 'top-1 drop', 'verdict'];
  const ms = (v?: number) => (v === undefined ? '-' : v.toFixed(3));
  const reference = r.candidates[0]?.accuracy?.reference;
  const rows = [['original', formatBytes(r.original.bytes), '1', ms(r.original.latencyMs?.p50), '1', '1', '1', reference === undefined ? '-' : `${reference.toFixed(2)}%`, '-', '']];
  for (const c of r.candidates) {
    const f = candidateFigures(c, r.original.bytes);
    const verdict = c.verdict.pass ? 'pass' : `fail: ${c.verdict.failed.map((k) => k.metric).join(', ')}`;
    rows.push([`${c.recipe}${c.recipe === r.chosen ? ' *' : ''}`, formatBytes(c.bytes), f.sizeRatio, ms(c.latencyMs?.p50), f.latencyRatio, f.minCosine, f.top1Agreement, f.top1, f.top1Drop, verdict]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  // Names and the verdict read left to right; figures line up on the right.
  const fmt = (row: string[]) => row.map((v, i) => (i === 0 || i === row.length - 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}

/** Chromium's figures, both builds: the cold start a one-shot page sees and the steady state. */
export function browserRows(r: CompressReport): string[][] {
  const rows: string[][] = [];
  for (const f of r.original.browser ?? []) rows.push(['original', f.build, f.coldMs.toFixed(1), '1', f.steadyP50Ms.toFixed(3), '1']);
  for (const c of r.candidates) for (const f of c.browser ?? []) rows.push([c.recipe, f.build, f.coldMs.toFixed(1), f.coldRatio.toFixed(2), f.steadyP50Ms.toFixed(3), f.steadyRatio.toFixed(2)]);
  return rows;
}

export const BROWSER_HEAD = ['model', 'build', 'cold ms', 'cold x', 'steady p50 ms', 'steady x'];

function browserTable(r: CompressReport): string[] {
  const rows = browserRows(r);
  if (!rows.length) return [];
  const widths = BROWSER_HEAD.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((v, i) => (i < 2 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd();
  return ['', `in headless Chromium (cold: session creation + first runs in a fresh browser; the verdict reads ${r.bench.browserBuild} steady):`, fmt(BROWSER_HEAD), ...rows.map(fmt)];
}

/** One line per model: the runtimes compared and their worst disagreement on any output. */
export function describeAgreement(a: AgreementReport): string[] {
  const skipped = a.skipped.map((s) => `${s.backend} skipped: ${s.reason}`);
  if (a.backends.length < 2) return [`runtimes: fewer than two could run (${skipped.join('; ')})`];
  const line = (which: 'reference' | 'candidate') => {
    const w = worstAgreement(a[which]);
    return `runtimes ${a.backends.join(' / ')} on the ${which === 'reference' ? 'original' : 'written model'}: max abs diff ${w.maxAbs.toExponential(2)}, min cosine ${w.cosine.toFixed(8)} (${a.samples} samples)`;
  };
  return [line('reference'), line('candidate'), ...skipped.map((s) => `runtimes: ${s}`)];
}
