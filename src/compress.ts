// `compressModel`: the main job. For a target profile, optimize once, then try each of its
// recipes (prune if the recipe says so, then quantize), check each result against the
// profile's op/dtype list, evaluate it against the original on held-out data, time all of
// them side by side, and pick the best one that meets the tolerances (the target's defaults
// where the user set none; src/report/build.ts judges and chooses). A recipe that cannot be
// built is reported as such and the others go on. When no candidate passes and one failed on
// quality alone, widen its most harmful activations to 16 bits (int8-static: as small, slower
// where a widened tensor feeds a Conv) and return its most error-sensitive nodes to float (as
// fast, larger), a group at a time each, until the quality tolerances hold or nothing is left
// to gain, and time everything again: the verdict picks among them on measured figures.
import type { Model } from './ir/graph.js';
import { OnnxpressError } from './errors.js';
import { DataType } from './ir/dtype.js';
import { cloneModel } from './onnx/clone.js';
import { benchModels, sizeOf, type BenchSource, type ModelBench } from './measure/bench.js';
import { benchInBrowser, type BrowserBenchReport } from './measure/browser-bench.js';
import { runtimeAgreement, RUNTIME_BACKENDS } from './measure/agreement.js';
import { evalModels, type EvalReport } from './measure/eval.js';
import { clipRates, type ClipReport } from './measure/clip-rate.js';
import { optimizeModel, type OptimizeReport } from './optimize.js';
import { pruneModel } from './prune/index.js';
import type { LayerError } from './prune/data-aware.js';
import { quantizeModel } from './quantize/index.js';
import { fallbackUnits } from './quantize/sensitivity.js';
import type { LeftInFloat } from './quantize/options.js';
import type { CalibrationMethod } from './quantize/calibrate.js';
import type { Sample } from './runtime/samples.js';
import { checkProfile, findTarget, recipesFor, type ProfileViolation, type Recipe, type TargetProfile } from './targets/index.js';
import { applyDefaults, judge, type Tolerances } from './verdict.js';
import { buildReport, objectiveBytes, pickBest, type CompressReport, type NotBuilt, type SizeFacts } from './report/build.js';

export { REPORT_VERSION, type CompressReport, type CandidateReport, type SizeFacts } from './report/build.js';

export interface CompressData {
  samples: Sample[];
  labels?: number[];
  /** Slice of each sample (undefined: in no slice), for per-slice figures. */
  slices?: (string | undefined)[];
  /** Inputs were generated, not read: accuracy cannot be judged against labels. */
  generated: boolean;
}

export interface CompressOptions {
  target: string | TargetProfile;
  /** The user's limits; the target's defaults apply to every key left unset. */
  tolerances: Tolerances;
  data: CompressData;
  /** Timed runs per model (default 30; more for sub-millisecond models, see benchSideBySide). */
  benchRuns?: number;
  /** Return sensitive nodes to float when no candidate passes and one failed on quality alone (default true). */
  fallback?: boolean;
  /**
   * Build only this recipe, with these nodes kept in float, and no fallback: what `verify`
   * uses to rebuild a locked artifact, so a latency-based choice cannot pick another one.
   */
  rebuild?: CompressChoice;
  log?: (line: string) => void;
}

/** A recipe of the target by name, and what the accuracy fallback changed: nodes returned to float, activations widened to 16 bits. */
export interface CompressChoice {
  recipe: string; keptInFloat: string[]; widened?: string[];
  /** The calibration method a recipe calibrating with 'auto' chose (a rebuild reuses it, not choosing again). */
  method?: CalibrationMethod;
}

/** What pruning did to each layer of the written model (none when its recipe does not prune). */
export interface PruneDecisions {
  layers: { name: string; opType: string; sparsity?: number; channels?: number; kept?: number }[];
  skipped: { name: string; reason: string }[];
  /** With calibration data: each re-fitted layer's output error before and after reconstruction. */
  errors?: LayerError[];
}

export interface CompressResult {
  report: CompressReport;
  model: Model | undefined;
  /** What the written model was built with (the chosen candidate, else the closest one). */
  written: CompressChoice & { candidate: number; pruned: PruneDecisions };
}

interface Built { recipe: Recipe; method?: CalibrationMethod; model: Model; size: SizeFacts; eval: EvalReport; clip?: ClipReport; violations: ProfileViolation[]; steps: string[]; quantized: Record<string, number>; keptInFloat: string[]; widened: string[]; leftInFloat: LeftInFloat[]; pruned: PruneDecisions }

/** Splits samples into calibration and evaluation sets that never overlap. */
export function splitData(data: CompressData): { calibration: Sample[]; evaluation: Sample[]; labels?: number[]; slices?: (string | undefined)[] } {
  const n = data.samples.length;
  if (n < 2) return { calibration: data.samples, evaluation: data.samples, labels: data.labels, slices: data.slices };
  const k = Math.min(200, Math.max(1, Math.floor(n * 0.3)));
  return { calibration: data.samples.slice(0, k), evaluation: data.samples.slice(k), labels: data.labels?.slice(k), slices: data.slices?.slice(k) };
}

/**
 * Clip rates of a candidate on the evaluation data, when a limit asks for them and the model
 * has statically quantized activations (a float or dynamic int8 model has no calibrated range).
 */
export async function clipFor(model: Model, evaluation: Sample[], tolerances: Tolerances): Promise<ClipReport | undefined> {
  if (tolerances.maxClipRate === undefined) return undefined;
  try {
    return await clipRates(model, evaluation.slice(0, 64));
  } catch (err) {
    if (err instanceof OnnxpressError && err.code === 'BAD_INPUT') return undefined; // nothing to judge: the check reports 'not measured'
    throw err;
  }
}

export async function compressModel(original: Model, modelName: string, options: CompressOptions): Promise<CompressResult> {
  const profile = typeof options.target === 'string' ? findTarget(options.target) : options.target;
  const log = options.log ?? (() => {});
  const warnings: string[] = [];
  const { calibration, evaluation, labels, slices } = splitData(options.data);
  if (calibration === evaluation) warnings.push('only one sample: it both calibrates and scores the model');
  const applied = applyDefaults(options.tolerances, profile.defaults, Boolean(labels));
  const quality = qualityOnly(applied.tolerances);

  // Optimizing is exact (up to float rounding), so it runs once and every recipe starts from it;
  // node names the fallback ranks then mean the same node in every candidate.
  log('optimizing');
  const optimized = cloneModel(original);
  const optimizeReport = await optimizeModel(optimized);

  // A recipe calibrating with method 'auto' (the int8-static default) chooses on its first build; its fallback builds reuse the choice.
  const chosenMethod = new Map<string, CalibrationMethod>();
  if (options.rebuild?.method) chosenMethod.set(options.rebuild.recipe, options.rebuild.method);
  // Float weights a float16 model keeps stay float16 (or bfloat16) only where the target allows both.
  const halfWeights = profile.allowedDtypes.includes(DataType.FLOAT16) && profile.allowedDtypes.includes(DataType.BFLOAT16) ? 'as-stored' : 'float32';
  const build = async (recipe: Recipe, excludeNodes: string[] = [], wideTensors: string[] = []): Promise<Built> => {
    const model = cloneModel(optimized);
    const steps: string[] = [];
    const pruned: PruneDecisions = { layers: [], skipped: [] };
    if (recipe.prune) {
      // The model was optimized once above; pruning need not do it again.
      const p = await pruneModel(model, { ...recipe.prune, calibration: options.data.generated ? undefined : calibration, statistics: { quiet: true } });
      // It would only repeat an unpruned recipe.
      if (p.layers.length === 0) throw new OnnxpressError('UNSUPPORTED', `nothing could be pruned (${p.skipped.length} group(s) skipped)`);
      pruned.layers = p.layers;
      pruned.skipped = p.skipped;
      pruned.errors = p.layerErrors;
      const errors = p.layerErrors?.length ? `; layer output error ${meanOf(p.layerErrors, 'before').toExponential(2)} -> ${meanOf(p.layerErrors, 'after').toExponential(2)} (mean over ${p.layerErrors.length} layers, before -> after reconstruction)` : p.notes.length ? '; magnitude only: no real data to reconstruct on' : '';
      steps.push(`prune ${p.method}: ${p.layers.length} layer(s), parameters ${p.parameters.before} -> ${p.parameters.after}${p.skipped.length ? `, ${p.skipped.length} skipped` : ''}${errors}`);
    }
    const method = chosenMethod.get(recipe.name) ?? recipe.quantize.method;
    // dominantShare 0: compress's own fallback sends nodes back to the profile's tolerance, measured on the evaluation samples.
    const q = await quantizeModel(model, { halfWeights, ...recipe.quantize, dominantShare: 0, ...(method ? { method } : {}), calibration, excludeNodes: [...(recipe.quantize.excludeNodes ?? []), ...excludeNodes], ...(wideTensors.length ? { wideTensors } : {}) });
    if (q.calibrationMethod) chosenMethod.set(recipe.name, q.calibrationMethod.chosen);
    if (chosenMethod.has(recipe.name)) steps.push(`calibration method (auto): ${chosenMethod.get(recipe.name)}${q.calibrationMethod ? ` (worst-output cosine ${q.calibrationMethod.scores.map((x) => `${x.method} ${x.cosine.toFixed(5)}`).join(', ')})` : ', chosen by the first build'}`);
    const counts = Object.entries(q.quantized).map(([op, n]) => `${n} ${op}`).join(', ');
    steps.push(`quantize ${q.mode}: ${counts || 'nothing quantized'}${q.leftInFloat.length ? `; ${q.leftInFloat.length} node(s) left in float` : ''}`);
    // What each accuracy technique did; what it bought is the comparison with the recipe without it.
    for (const t of q.techniques ?? []) steps.push(`${t.name}: ${t.detail}`);
    warnings.push(...q.warnings.map((w) => `${recipe.name}: ${w}`).filter((w) => !warnings.includes(w)));
    const evalReport = await evalModels(original, model, { samples: evaluation, labels, slices, quiet: true });
    return { recipe, method: chosenMethod.get(recipe.name) ?? explicitMethod(recipe), model, size: sizeOf(model), eval: evalReport, clip: await clipFor(model, evaluation, applied.tolerances), violations: checkProfile(model, profile, original), steps, quantized: q.quantized, keptInFloat: excludeNodes, widened: wideTensors, leftInFloat: q.leftInFloat, pruned };
  };

  const built: Built[] = [];
  const notBuilt: NotBuilt[] = [];
  const rebuild = options.rebuild;
  const recipes = rebuild ? profile.recipes.filter((r) => r.name === rebuild.recipe) : recipesFor(profile, optimized);
  if (rebuild && recipes.length === 0) throw new OnnxpressError('BAD_INPUT', `rebuild.recipe '${rebuild.recipe}': target ${profile.name} has no such recipe (${profile.recipes.map((r) => r.name).join(', ')})`);
  for (const recipe of recipes) {
    log(`${recipe.name}: building and evaluating`);
    try {
      built.push(await build(recipe, rebuild?.keptInFloat, rebuild?.widened));
    } catch (err) {
      // One recipe out of reach (an opset it cannot raise, nothing to prune) leaves the others to try.
      if (!(err instanceof OnnxpressError)) throw err;
      notBuilt.push({ recipe: recipe.name, reason: err.message });
      log(`${recipe.name}: not built: ${err.message}`);
    }
  }
  if (built.length === 0) throw new OnnxpressError('UNSUPPORTED', `${profile.name}: no recipe could be built (${notBuilt.map((n) => `${n.recipe}: ${n.reason}`).join('; ')})`);
  const meetsQuality = (b: Built) => judge(quality, { eval: b.eval, originalBytes: b.size.bytes, bytes: b.size.bytes }).pass;
  if (profile.fullInteger && !built.some(meetsQuality)) warnings.push(`${profile.name} runs every op in integer: no node can return to float, so there is no accuracy fallback`);

  const originalSize = sizeOf(original);
  const timeAndJudge = async () => {
    log(`timing the original and ${built.length} candidate(s) side by side`);
    const bench = await benchSideBySide(
      [{ label: modelName, model: original, size: originalSize }, ...built.map((b, i) => ({ label: `${b.recipe.name}#${i}`, model: b.model, size: b.size }))],
      profile.bench, options.benchRuns ?? 30, evaluation.slice(0, 8), applied.tolerances.maxLatencyRatio,
    );
    const [origBench, ...candBench] = bench.models as [ModelBench, ...ModelBench[]];
    return buildReport({
      profile, model: modelName, tolerances: options.tolerances,
      data: { calibrationSamples: calibration.length, evalSamples: evaluation.length, generated: options.data.generated, labelled: Boolean(labels) },
      bench: { backend: bench.backend, threads: bench.threads, runs: bench.runs },
      optimize: summarizeOptimize(optimizeReport),
      original: { ...originalSize, latencyMs: origBench.latencyMs, samplesMs: origBench.samplesMs, browser: bench.browser?.[0] },
      candidates: built.map((b, i) => ({
        recipe: [b.recipe.name, ...(b.keptInFloat.length ? [`${b.keptInFloat.length} node(s) in float`] : []), ...(b.widened.length ? [`${b.widened.length} tensor(s) in 16-bit`] : [])].join(' + '),
        size: b.size, timing: candBench[i]!, browser: bench.browser?.[i + 1], eval: b.eval, clip: b.clip, pruneErrors: b.pruned.errors, violations: b.violations, steps: b.steps, keptInFloat: b.keptInFloat, widened: b.widened, leftInFloat: b.leftInFloat,
      })),
      notBuilt, warnings: [...warnings, ...bench.warnings], judgedBuild: bench.judgedBuild,
    });
  };

  let judged = await timeAndJudge();
  // The fallback runs when nothing passed, and also when a candidate that failed on quality
  // alone would be the profile's pick had it passed (smaller on a size-first profile, clearly
  // faster on a latency one): a few nodes in float may keep most of what it wins.
  const report = judged.report;
  const chosenReport = report.chosen === null ? undefined : report.candidates[judged.written];
  const better = (b: Built) => !chosenReport || pickBest(profile, [{ c: chosenReport }, { c: report.candidates[built.indexOf(b)]! }])?.c !== chosenReport;
  const falling = options.fallback !== false && !rebuild && !profile.fullInteger;
  const base = falling ? fallbackBase(built, report, better) : undefined;
  // 16-bit activations need QDQ: they start from the closest static candidate, whichever the float fallback starts from.
  const wideAllowed = profile.allowedDtypes.includes(DataType.UINT16) && profile.allowedDtypes.includes(DataType.INT16);
  const staticBase = falling && wideAllowed ? fallbackBase(built, report, (b) => b.recipe.quantize.mode === 'int8-static' && better(b)) : undefined;
  if (staticBase) await fallBack(staticBase, '16-bit');
  if (base) await fallBack(base, 'float');
  if (base || staticBase) {
    // Timed again, all together: every ratio in the report comes from one interleaved run.
    judged = await timeAndJudge();
  }
  const written = built[judged.written]!;
  // Where the model ships on more than one runtime, say how far they disagree on it.
  if (profile.bench.backend === 'wasm') judged.report.agreement = await runtimeAgreement(original, written.model, evaluation.slice(0, 16), RUNTIME_BACKENDS);
  return { report: judged.report, model: written.model, written: { recipe: written.recipe.name, keptInFloat: written.keptInFloat, widened: written.widened, ...(written.method ? { method: written.method } : {}), candidate: judged.written, pruned: written.pruned } };

  /**
   * One fallback from `base`: its most harmful quantizations back to float (kind 'float') or
   * widened to 16 bits, 1, 2, 4, ... units at a time (few builds; the first units matter
   * most), until the quality tolerances hold or every unit is in.
   */
  async function fallBack(base: Built, kind: 'float' | '16-bit'): Promise<void> {
    const wide = kind === '16-bit';
    const why = report.chosen === null ? 'no candidate passed' : `${base.recipe.name} would beat ${report.chosen} but failed on quality`;
    log(wide ? `${why}: widening the most harmful activations of ${base.recipe.name} to 16 bits` : `${why}: returning the most sensitive nodes of ${base.recipe.name} to float`);
    // Ranked against the optimized model, whose node names the candidates share.
    const q = base.recipe.quantize;
    const units = await fallbackUnits(optimized, base.model, evaluation, kind, { quantizedOps: new Set(Object.keys(base.quantized)), rescaled: Boolean(q.equalize || q.smoothQuant || base.recipe.prune) });
    for (let count = 1; units.length > 0; count = Math.min(count * 2, units.length)) {
      const changed = units.slice(0, count).flat();
      let attempt: Built;
      try {
        attempt = wide ? await build(base.recipe, [], changed) : await build(base.recipe, changed);
      } catch (err) {
        // An opset 21 out of reach; every quantized node back in float (the original again): not a candidate.
        if (!(err instanceof OnnxpressError)) throw err;
        log(wide ? `  16-bit activations: not built: ${err.message}` : `  ${changed.length} node(s) in float: not built: ${err.message}`);
        return;
      }
      built.push(attempt);
      log(`  ${wide ? `${count} tensor(s) in 16-bit` : `${attempt.keptInFloat.length} node(s) in float`}: ${meetsQuality(attempt) ? 'quality tolerances hold' : 'still failing'}`);
      if (meetsQuality(attempt) || count >= units.length) break;
      // On a size-first profile, an attempt no smaller than the chosen candidate cannot win: more float nodes only grow it.
      if (chosenReport && profile.objective !== 'latency' && objectiveBytes(profile, attempt.size) >= objectiveBytes(profile, chosenReport)) { log('  no smaller than the chosen candidate: stopping'); break; }
    }
  }
}

const QUALITY_METRICS = new Set<string>(['maxAccuracyDrop', 'minCosine', 'minTop1Agreement']);

/**
 * The candidate the accuracy fallback starts from: one that failed on quality alone (float
 * nodes would only make one that is too slow, too large or off the profile's list worse), the
 * closest to the tolerances, unpruned when one is (float nodes undo quantization error, not
 * pruning error).
 */
function fallbackBase(built: Built[], report: CompressReport, eligible: (b: Built) => boolean = () => true): Built | undefined {
  const qualityOnlyFailures = built.filter((b, i) => {
    if (!eligible(b)) return false;
    const failed = report.candidates[i]!.verdict.failed;
    return failed.length > 0 && failed.every((c) => QUALITY_METRICS.has(c.metric));
  });
  const unpruned = qualityOnlyFailures.filter((b) => !b.recipe.prune);
  return [...(unpruned.length ? unpruned : qualityOnlyFailures)].sort((a, b) => closeness(b) - closeness(a))[0];
}

/**
 * When the verdict cannot tell yet, spend about this long timing each model again: a few
 * milliseconds of samples cannot separate 1.2x from a busy machine's noise, a few seconds can.
 */
const UNDECIDED_BUDGET_MS = 3000;
/** ... with no more figures than this per model: the bootstrap intervals sort every sample 1000 times. */
const MAX_FIGURES = 1000;

/**
 * The side-by-side bench compress and gate judge latency on: `runs` interleaved runs per
 * model. When a candidate's latency-ratio interval still straddles `ratioLimit` (the verdict
 * cannot tell yet), it times them again with at least twice the runs, more for fast models,
 * so that "slower" or "not slower" rests on evidence rather than on noise.
 */
export async function benchSideBySide(sources: BenchSource[], on: TargetProfile['bench'], runs: number, samples: Sample[], ratioLimit?: number): Promise<BrowserBenchReport> {
  // A wasm model ships to a browser: time it there (src/measure/browser-bench.ts falls back to Node with a warning).
  const time = (n: number, previous?: BrowserBenchReport): Promise<BrowserBenchReport> => on.backend === 'wasm'
    ? benchInBrowser(sources, { runs: n, samples, build: on.browserBuild ?? 'wasm-only', previous })
    : benchModels(sources, { backend: on.backend, threads: on.threads, runs: n, samples, quiet: true }).then((r) => ({ ...r, warnings: [] }));
  const first = await time(runs);
  const undecided = ratioLimit !== undefined && first.ratios.some((r) => r.ci95[0] <= ratioLimit && ratioLimit < r.ci95[1]);
  if (!undecided) return first;
  // A figure is the mean of runsPerFigure back-to-back runs: the budget buys figures, not
  // runs, sized by the slowest model's so that none takes much longer than the budget.
  const figureMs = Math.max(...first.models.map((m) => m.latencyMs.p50)) * Math.max(1, first.runsPerFigure);
  return time(Math.min(MAX_FIGURES, Math.max(2 * runs, Math.ceil(UNDECIDED_BUDGET_MS / figureMs))), first);
}

/** Higher is closer to the original: the worst output cosine, less the top-1 drop as a share (a gain is noise, not closeness). */
function closeness(b: Built): number {
  const cosines = Object.values(b.eval.outputs).map((o) => o.cosine);
  const drop = b.eval.accuracy ? Math.max(0, b.eval.accuracy.reference - b.eval.accuracy.candidate) : 0;
  return Math.min(1, ...cosines) - drop / 100;
}

/** The tolerances returning nodes to float can help with: not size, not latency. */
function qualityOnly(t: Tolerances): Tolerances {
  return Object.fromEntries(Object.entries(t).filter(([k]) => QUALITY_METRICS.has(k)));
}

function summarizeOptimize(r: OptimizeReport): CompressReport['optimize'] {
  const passes = Object.entries(r.passes).filter(([, p]) => p.changedRounds > 0).map(([name]) => name);
  return { nodesBefore: r.before.nodeCount, nodesAfter: r.after.nodeCount, bytesBefore: r.before.fileBytes, bytesAfter: r.after.fileBytes, passes };
}

const meanOf = (errors: LayerError[], k: 'before' | 'after') => errors.reduce((a, e) => a + e[k], 0) / errors.length;

/** The calibration method a recipe names itself (not 'auto'): recorded in the lock like a chosen one. */
function explicitMethod(recipe: Recipe): CalibrationMethod | undefined {
  const m = recipe.quantize.method;
  return recipe.quantize.mode === 'int8-static' && m !== undefined && m !== 'auto' ? m : undefined;
}
