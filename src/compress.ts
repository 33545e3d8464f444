// `compressModel`: the main job. For a target profile, optimize once, then try each of its
// recipes (prune if the recipe says so, then quantize), check each result against the
// profile's op/dtype list, evaluate it against the original on held-out data, time all of
// them side by side, and pick the best one that meets the tolerances. When none does, return
// the most error-sensitive nodes to float, a group at a time, until the tolerances hold or
// nothing is left to gain.
import type { Model } from './ir/graph.js';
import { OnnxpressError } from './errors.js';
import { toolName } from './version.js';
import { cloneModel } from './onnx/clone.js';
import { serializeModel } from './onnx/save.js';
import { benchModels, sizeOf, type ModelBench } from './measure/bench.js';
import { evalModels, perTensorErrors, type EvalReport } from './measure/eval.js';
import { ratioInterval, type Summary } from './measure/stats.js';
import { optimizeModel, type OptimizeReport } from './optimize.js';
import { pruneModel } from './prune/index.js';
import { quantizeModel } from './quantize/index.js';
import type { LeftInFloat } from './quantize/options.js';
import type { Sample } from './runtime/samples.js';
import { checkProfile, findTarget, type ProfileViolation, type Recipe, type TargetProfile } from './targets/index.js';
import { judge, type Tolerances, type Verdict } from './verdict.js';

export const REPORT_VERSION = 1;

export interface CompressData {
  samples: Sample[];
  labels?: number[];
  /** Inputs were generated, not read: accuracy cannot be judged against labels. */
  generated: boolean;
}

export interface CompressOptions {
  target: string | TargetProfile;
  tolerances: Tolerances;
  data: CompressData;
  /** Timed runs per model (default 30). */
  benchRuns?: number;
  /** Return sensitive nodes to float when the first recipe fails (default true). */
  fallback?: boolean;
  log?: (line: string) => void;
}

export interface SizeFacts { bytes: number; gzipBytes: number; brotliBytes: number }

export interface CandidateReport extends SizeFacts {
  recipe: string;
  latencyMs?: Summary;
  samplesMs?: number[];
  outputs: EvalReport['outputs'];
  accuracy?: EvalReport['accuracy'];
  violations: ProfileViolation[];
  verdict: Verdict;
  /** What each step did, in order: prune, quantize. */
  steps: string[];
  /** Nodes returned to float by the accuracy-aware fallback. */
  keptInFloat: string[];
  leftInFloat: LeftInFloat[];
}

export interface CompressReport {
  version: number;
  tool: string;
  target: { name: string; description: string; assumes: string };
  model: string;
  tolerances: Tolerances;
  data: { calibrationSamples: number; evalSamples: number; generated: boolean; labelled: boolean };
  bench: { backend: string; threads: number; runs: number };
  /** The optimize step every recipe starts from (absent in gate reports). */
  optimize?: { nodesBefore: number; nodesAfter: number; bytesBefore: number; bytesAfter: number; passes: string[] };
  original: SizeFacts & { latencyMs?: Summary; samplesMs?: number[] };
  candidates: CandidateReport[];
  chosen: string | null;
  verdict: Verdict;
  warnings: string[];
}

export interface CompressResult { report: CompressReport; model: Model | undefined }

interface Built { recipe: Recipe; model: Model; eval: EvalReport; violations: ProfileViolation[]; steps: string[]; quantized: Record<string, number>; keptInFloat: string[]; leftInFloat: LeftInFloat[] }

/** Splits samples into calibration and evaluation sets that never overlap. */
export function splitData(data: CompressData): { calibration: Sample[]; evaluation: Sample[]; labels?: number[] } {
  const n = data.samples.length;
  if (n < 2) return { calibration: data.samples, evaluation: data.samples, labels: data.labels };
  const k = Math.min(200, Math.max(1, Math.floor(n * 0.3)));
  return { calibration: data.samples.slice(0, k), evaluation: data.samples.slice(k), labels: data.labels?.slice(k) };
}

export async function compressModel(original: Model, modelName: string, options: CompressOptions): Promise<CompressResult> {
  const profile = typeof options.target === 'string' ? findTarget(options.target) : options.target;
  const log = options.log ?? (() => {});
  const warnings: string[] = [];
  if (options.data.generated) warnings.push('no --data: calibrated and evaluated on generated inputs; accuracy against real data is unknown');
  const { calibration, evaluation, labels } = splitData(options.data);
  if (calibration === evaluation) warnings.push('only one sample: it both calibrates and scores the model');
  const tolerances = options.tolerances;

  // Optimizing is exact (up to float rounding), so it runs once and every recipe starts from it;
  // node names the fallback ranks then mean the same node in every candidate.
  log('optimizing');
  const optimized = cloneModel(original);
  const optimizeReport = await optimizeModel(optimized);

  /** Undefined when the recipe's pruning found nothing to prune: it would repeat an unpruned recipe. */
  const build = async (recipe: Recipe, excludeNodes: string[] = []): Promise<Built | undefined> => {
    const model = cloneModel(optimized);
    const steps: string[] = [];
    if (recipe.prune) {
      // The model was optimized once above; pruning need not do it again.
      const p = await pruneModel(model, recipe.prune);
      if (p.layers.length === 0) {
        warnings.push(`${recipe.name}: nothing could be pruned (${p.skipped.length} group(s) skipped), so it is not tried`);
        return undefined;
      }
      steps.push(`prune ${p.method}: ${p.layers.length} layer(s), parameters ${p.parameters.before} -> ${p.parameters.after}${p.skipped.length ? `, ${p.skipped.length} skipped` : ''}`);
    }
    const q = await quantizeModel(model, { ...recipe.quantize, calibration, excludeNodes: [...(recipe.quantize.excludeNodes ?? []), ...excludeNodes] });
    const counts = Object.entries(q.quantized).map(([op, n]) => `${n} ${op}`).join(', ');
    steps.push(`quantize ${q.mode}: ${counts || 'nothing quantized'}${q.leftInFloat.length ? `; ${q.leftInFloat.length} node(s) left in float` : ''}`);
    warnings.push(...q.warnings.map((w) => `${recipe.name}: ${w}`).filter((w) => !warnings.includes(w)));
    const evalReport = await evalModels(original, model, { samples: evaluation, labels, quiet: true });
    return { recipe, model, eval: evalReport, violations: checkProfile(model, profile), steps, quantized: q.quantized, keptInFloat: excludeNodes, leftInFloat: q.leftInFloat };
  };

  const built: Built[] = [];
  for (const recipe of profile.recipes) {
    log(`${recipe.name}: building and evaluating`);
    const b = await build(recipe);
    if (b) built.push(b);
  }
  if (built.length === 0) throw new OnnxpressError('UNSUPPORTED', `${profile.name}: no recipe applies to this model (nothing to prune)`);
  const originalBytes = sizeOf(original);
  const meetsQuality = (b: Built) => judge(qualityOnly(tolerances), { eval: b.eval, originalBytes: originalBytes.bytes, bytes: serializeModel(b.model).byteLength }).pass;
  const noneMeetsQuality = !built.some((b) => meetsQuality(b) && b.violations.length === 0);
  if (profile.fullInteger && !built.some(meetsQuality)) warnings.push(`${profile.name} runs every op in integer: no node can return to float, so there is no accuracy fallback`);
  if (options.fallback !== false && noneMeetsQuality && !profile.fullInteger) {
    // Returning nodes to float undoes quantization error, not pruning error: start from the
    // unpruned recipe closest to the tolerances.
    const unpruned = built.filter((b) => !b.recipe.prune && b.violations.length === 0);
    const base = [...(unpruned.length ? unpruned : built)].sort((a, b) => closeness(b) - closeness(a))[0]!;
    log(`no recipe met the tolerances: returning the most sensitive nodes of ${base.recipe.name} to float`);
    // Ranked against the optimized model, whose node names the candidates share.
    const errors = await perTensorErrors(optimized, base.model, evaluation.slice(0, 16));
    const quantizedOps = new Set(Object.keys(base.quantized));
    const ranked = errors.filter((t) => quantizedOps.has(t.opType)).map((t) => t.node);
    // 1, 2, 4, ... nodes: few builds, and the first groups are the ones that matter most.
    for (let count = 1; ranked.length > 0; count = Math.min(count * 2, ranked.length)) {
      const attempt = (await build(base.recipe, ranked.slice(0, count)))!; // the base built, so its recipe does
      built.push(attempt);
      log(`  ${count} node(s) in float: ${meetsQuality(attempt) ? 'tolerances hold' : 'still failing'}`);
      if (meetsQuality(attempt) || count >= ranked.length) break;
    }
  }
  log(`timing the original and ${built.length} candidate(s) side by side`);
  const bench = await benchModels(
    [{ label: modelName, model: original }, ...built.map((b, i) => ({ label: `${b.recipe.name}#${i}`, model: b.model }))],
    { backend: profile.bench.backend, threads: profile.bench.threads, runs: options.benchRuns ?? 30, samples: evaluation.slice(0, 8), quiet: true },
  );
  const [origBench, ...candBench] = bench.models as [ModelBench, ...ModelBench[]];
  const candidates: CandidateReport[] = built.map((b, i) => {
    const size = sizeOf(b.model);
    const verdict = judge(tolerances, { eval: b.eval, originalBytes: originalBytes.bytes, bytes: size.bytes, originalLatencyMs: origBench.latencyMs.p50, latencyMs: candBench[i]!.latencyMs.p50 });
    if (b.violations.length) {
      const check = { metric: 'profile' as const, limit: 0, value: b.violations.length, pass: false, note: b.violations.map((v) => v.detail).join('; ') };
      verdict.pass = false;
      verdict.checks.push(check);
      verdict.failed.push(check);
    }
    return {
      recipe: b.keptInFloat.length ? `${b.recipe.name} + ${b.keptInFloat.length} node(s) in float` : b.recipe.name,
      ...size, latencyMs: candBench[i]!.latencyMs, samplesMs: candBench[i]!.samplesMs,
      outputs: b.eval.outputs, accuracy: b.eval.accuracy, violations: b.violations, verdict, steps: b.steps, keptInFloat: b.keptInFloat, leftInFloat: b.leftInFloat,
    };
  });
  const passing = candidates.map((c, i) => ({ c, i })).filter(({ c }) => c.verdict.pass);
  const best = pickBest(profile, passing);
  const fallbackChoice = best ?? candidates.map((c, i) => ({ c, i })).sort((a, b) => a.c.verdict.failed.length - b.c.verdict.failed.length)[0]!;
  const report: CompressReport = {
    version: REPORT_VERSION,
    tool: toolName(),
    target: { name: profile.name, description: profile.description, assumes: profile.assumes },
    model: modelName,
    tolerances,
    data: { calibrationSamples: calibration.length, evalSamples: evaluation.length, generated: options.data.generated, labelled: Boolean(labels) },
    bench: { backend: bench.backend, threads: bench.threads, runs: bench.runs },
    optimize: summarizeOptimize(optimizeReport),
    original: { ...originalBytes, latencyMs: origBench.latencyMs, samplesMs: origBench.samplesMs },
    candidates,
    chosen: best ? candidates[best.i]!.recipe : null,
    verdict: fallbackChoice.c.verdict,
    warnings,
  };
  return { report, model: built[fallbackChoice.i]?.model };
}

/** Higher is closer to the original: the worst output cosine, less the top-1 drop as a share. */
function closeness(b: Built): number {
  const cosines = Object.values(b.eval.outputs).map((o) => o.cosine);
  const drop = b.eval.accuracy ? b.eval.accuracy.reference - b.eval.accuracy.candidate : 0;
  return Math.min(1, ...cosines) - drop / 100;
}

/** The tolerances returning nodes to float can help with: not size, not latency. */
function qualityOnly(t: Tolerances): Tolerances {
  const { maxLatencyMs: _a, maxLatencyRatio: _b, maxSizeBytes: _c, maxSizeRatio: _d, ...rest } = t;
  return rest;
}

/** A candidate replaces the one before it on latency only when surely this much faster. */
const CLEARLY_FASTER = 0.9;

/** Size-first profiles still skip a candidate more than this much slower than the fastest passing one. */
const SIZE_FIRST_LATENCY_SLACK = 1.5;

/**
 * The passing candidate the profile prefers. Sizes are exact, so they decide directly (ties
 * keep recipe order) among candidates within SIZE_FIRST_LATENCY_SLACK of the fastest: a few
 * KiB saved do not pay for a model 4x slower (dynamic int8 convs on WebAssembly). Timings are
 * noisy: on latency a later candidate wins only when the 95% interval of its latency ratio
 * lies below CLEARLY_FASTER, so the same input picks the same model unless two candidates run
 * within about 10% of each other.
 */
export function pickBest<T extends { c: CandidateReport }>(profile: TargetProfile, passing: T[]): T | undefined {
  if (profile.objective !== 'latency') {
    const key = (c: CandidateReport) => (profile.objective === 'size' ? c.bytes : c.brotliBytes);
    const p50 = (c: CandidateReport) => c.latencyMs?.p50 ?? Infinity;
    const fastest = Math.min(...passing.map((p) => p50(p.c)));
    return passing.filter((p) => p50(p.c) <= SIZE_FIRST_LATENCY_SLACK * fastest).sort((a, b) => key(a.c) - key(b.c))[0];
  }
  let best = passing[0];
  for (const p of passing.slice(1)) {
    if (!best!.c.samplesMs?.length || !p.c.samplesMs?.length) continue;
    if (ratioInterval(best!.c.samplesMs, p.c.samplesMs)[1] < CLEARLY_FASTER) best = p;
  }
  return best;
}

function summarizeOptimize(r: OptimizeReport): NonNullable<CompressReport['optimize']> {
  const passes = Object.entries(r.passes).filter(([, p]) => p.changedRounds > 0).map(([name]) => name);
  return { nodesBefore: r.before.nodeCount, nodesAfter: r.after.nodeCount, bytesBefore: r.before.fileBytes, bytesAfter: r.after.fileBytes, passes };
}
