// The measured fragile-op policy of int8-static (without a tolerance): where one quantization
// alone causes a large share of the whole int8 model's output error, it goes back to float
// (or to 16-bit activations with fallback '16-bit') and everything else stays int8. Which op
// is fragile is a property of the model, not of its op type: on the PP-OCR detector the input
// of one early HardSwish caused 90% of the error of 207 quantizations (held-out text-map cosine
// 0.986 -> 0.990 with its three nodes in float); op-type rules (Softmax, normalization
// internals: qdq-placement.ts) still keep what is fragile everywhere in float.
//
// Found by group testing on the probe session (sensitivity.ts) rather than one run per
// quantization: the error of a group is about the sum of its members' (first order), so a
// member at or above the share lies in a group at or above it. Halving the groups that are
// reaches every such member in tens of runs where ranking all of them takes hundreds.
import type { Model } from '../ir/graph.js';
import { OnnxpressError } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import { CalibrationCache } from './calibrate.js';
import { asksTechniques, TECHNIQUES, type DominantReport, type QuantizeOptions, type QuantizeReport } from './options.js';
import { nodesAround, openProbe, relSq, type Sensitivity } from './sensitivity.js';
import { runSamples } from '../runtime/ort.js';
import { isWeightFloat } from '../ir/dtype.js';
import { qdqPairs, quantizedGraphs } from './qdq-pairs.js';
import type { Sample } from '../runtime/samples.js';
import { Progress } from '../measure/progress.js';

/** Default share of the output error above which one quantization is sent back. */
export const DOMINANT_SHARE = 0.25;
/** Samples the errors are measured on (as the tolerance's ranking). */
const PROBE_SAMPLES = 4;
/**
 * Relative squared output error below which nothing is looked for (about cosine 0.9975):
 * no return to float buys there what a user would see, and the search would only cost time.
 */
export const NOTICEABLE_ERROR = 5e-3;
/** The most of the model's float weight elements the nodes sent back may hold. */
const MAX_WEIGHT_SHARE = 0.1;
/** Searches after the first: with the worst sent back, what dominates the rest. */
const MAX_ROUNDS = 3;
/**
 * Probe runs one search may take (each over every sample): the halving needs about
 * 2 log2(n) per dominant one, so this bounds the cost on a model where errors do not add up.
 */
const MAX_RUNS = 64;

/**
 * Float elements of the initializers `nodes` read (every node's when not given), main graph
 * and If branches; a weight stored as float16 behind a Cast counts as read by the Cast's readers.
 */
function floatWeightElements(model: Model, nodes?: Set<string>): number {
  let n = 0;
  for (const g of quantizedGraphs(model.graph)) {
    const producers = g.producers();
    const weightOf = (name: string) => {
      const p = producers.get(name);
      return g.findInitializer(p?.opType === 'Cast' ? p.inputs[0] ?? '' : name);
    };
    for (const node of g.nodes) {
      if (node.opType === 'Cast' || (nodes && !nodes.has(node.name || node.outputs[0] || ''))) continue;
      for (const i of node.inputs) {
        const t = i ? weightOf(i) : undefined;
        if (t && isWeightFloat(t.dataType)) n += t.dims.reduce((a, b) => a * b, 1);
      }
    }
  }
  return n;
}

/** Output errors against `reference`'s outputs on fixed samples (relative, squared, mean over samples), in onnxruntime. */
async function errorMeter(reference: Model, samples: Sample[]): Promise<(candidate: Model) => Promise<number>> {
  const expected = await runSamples(reference, samples);
  return async (candidate) => (await runSamples(candidate, samples)).reduce((total, got, k) => total + relSq(expected[k]!, got), 0) / samples.length;
}

type Quantize = (model: Model, options: QuantizeOptions) => Promise<QuantizeReport>;

/**
 * Whether int8-static looks for dominant quantizations: no tolerance asked (its search does the
 * measured work), not full-integer placement (an int8-only accelerator runs no float node), share not 0.
 */
export const dominantRuleApplies = (o: QuantizeOptions): boolean =>
  o.mode === 'int8-static' && o.maxAccuracyDrop === undefined && o.minCosine === undefined && o.placement !== 'full-integer' && (o.dominantShare ?? DOMINANT_SHARE) > 0;

export interface Dominant extends Sensitivity { share: number }

/**
 * The quantizations of `quantized` whose output error alone is at least `share` of the error
 * of all of them together, on `samples` (both as the probe emulates them).
 */
export async function dominantQuantizations(quantized: Model, samples: Sample[], float: Model | undefined, share: number): Promise<{ dominant: Dominant[]; runs: number; truncated: boolean }> {
  const probe = await openProbe(quantized, samples, float);
  try {
    const all = probe.entries.map((_, i) => i);
    const outputError = await probe.loss(all);
    let runs = 1;
    const dominant: Dominant[] = [];
    let truncated = false;
    const visit = async (group: number[], loss: number): Promise<void> => {
      if (!(loss >= share * outputError)) return;
      if (group.length === 1) {
        dominant.push({ ...probe.entries[group[0]!]!, loss, share: loss / outputError });
        return;
      }
      if (runs + 2 > MAX_RUNS) { truncated = true; return; }
      const halves = [group.slice(0, group.length >> 1), group.slice(group.length >> 1)];
      const losses = [];
      for (const h of halves) losses.push(await probe.loss(h));
      runs += 2;
      progress.tick(runs);
      for (const [i, h] of halves.entries()) await visit(h, losses[i]!);
    };
    // Out of the budget: the search usually ends well before it.
    const progress = new Progress('looking for dominant quantizations (probe runs of the budget)', MAX_RUNS);
    await visit(all, outputError);
    progress.done();
    return { dominant: dominant.sort((a, b) => b.loss - a.loss), runs, truncated };
  } finally {
    await probe.release();
  }
}

/**
 * int8-static of `model` in place with `quantize` (which must not apply this policy again),
 * then, where some quantizations dominate the output error, again without them. `first`: the
 * plain quantization when the caller has it already (auto's chosen method).
 */
export async function quantizeWithoutDominant(model: Model, o: QuantizeOptions, quantize: Quantize, first?: Attempt): Promise<QuantizeReport> {
  const off = { ...o, dominantShare: 0 };
  // The search runs on plain quantizations, as auto compares methods: the accuracy techniques
  // (GPTQ alone takes 80 s on the PP-OCR recognizer) then run once, without what it found.
  const plain: QuantizeOptions = { ...off, ...Object.fromEntries(TECHNIQUES.map((t) => [t, undefined])) };
  const original = cloneModel(model);
  // The attempts quantize clones of one model on the same samples: measured once.
  const calibrationCache = o.calibrationCache ?? (o.calibration ? new CalibrationCache(o.calibration) : undefined);
  const attempt = async (options: QuantizeOptions, back: string[]): Promise<Attempt> => {
    const m = cloneModel(original);
    const sendBack = o.fallback === '16-bit' ? { wideTensors: [...(o.wideTensors ?? []), ...back] } : { excludeNodes: [...(o.excludeNodes ?? []), ...back] };
    return { model: m, report: await quantize(m, { ...options, ...sendBack }) };
  };
  first ??= await attempt({ ...plain, calibrationCache }, []);
  const search = await sendBackDominant(original, first, o, (back) => attempt({ ...plain, calibrationCache }, back));
  const result = asksTechniques(o) ? await attempt(off, search.sent) : search.result;
  if (asksTechniques(o) && search.report && search.errorOf) search.report.outputErrorWithTechniques = await search.errorOf(result.model);
  // The nodes it sent back say why, not 'node excluded'.
  const why = new Map(o.fallback === '16-bit' ? [] : search.report?.returned.flatMap((r) => r.nodes.map((n) => [n, `its ${r.kind} ${r.name} alone caused ${shareOfError(r.share)}: kept in float`] as const)));
  const leftInFloat = result.report.leftInFloat.map((l) => (why.has(l.node) && !o.excludeNodes?.includes(l.node) ? { ...l, reason: why.get(l.node)! } : l));
  Object.assign(model, result.model);
  return { ...result.report, leftInFloat, warnings: [...result.report.warnings, ...search.warnings], ...(search.report ? { dominant: search.report } : {}) };
}

interface Attempt { model: Model; report: QuantizeReport }

/** A share of the int8 output error in words: errors need not add up, so one alone can exceed all together. */
export function shareOfError(share: number): string {
  return share >= 1 ? `${share.toFixed(2)}x the error of the whole int8 model` : `${(100 * share).toFixed(0)}% of the int8 output error`;
}

/**
 * The rounds of the search from the plain quantization `first`: what was sent back (node
 * names, or tensors with fallback '16-bit'), the last attempt kept, and what was measured.
 */
async function sendBackDominant(original: Model, first: Attempt, o: QuantizeOptions, attempt: (back: string[]) => Promise<Attempt>): Promise<{ sent: string[]; result: Attempt; report?: DominantReport; warnings: string[]; errorOf?: (m: Model) => Promise<number> }> {
  const share = o.dominantShare ?? DOMINANT_SHARE;
  const samples = (o.calibration ?? []).slice(0, PROBE_SAMPLES);
  const sent: string[] = [], warnings: string[] = [];
  if (!samples.length || !quantizedGraphs(first.model.graph).some((g) => qdqPairs(g).length > 0)) return { sent, result: first, warnings };
  // The error measured first: below NOTICEABLE_ERROR there is nothing worth the search.
  const errorOf = await errorMeter(original, samples);
  // 16 bits widen activations only; the plain quantization rounded the float model's own weights.
  const wide = o.fallback === '16-bit';
  const report: DominantReport = { share, fallback: wide ? '16-bit' : 'float', outputError: await errorOf(first.model), samples: samples.length, runs: 0, returned: [], kept: [] };
  const weights = floatWeightElements(original);
  let result = first, error = report.outputError;
  // With the worst sent back another may dominate what is left: a few rounds, each measured.
  for (let round = 0; round < MAX_ROUNDS && error >= NOTICEABLE_ERROR; round++) {
    const found = await dominantQuantizations(result.model, samples, wide ? undefined : original, share);
    report.runs += found.runs;
    if (found.truncated) warnings.push(`dominant quantizations: the search stopped at its budget of ${MAX_RUNS} probe runs; some may be missed`);
    const candidates = found.dominant.filter((d) => !wide || d.kind === 'activation');
    const keptInt8 = (d: Dominant, why: string) => { if (!report.kept.some((k) => k.name === d.name)) report.kept.push({ kind: d.kind, name: d.name, share: d.share, why }); };
    // Float weights cost bytes: units holding a large part of them would undo what int8 is for.
    const picked: { d: Dominant; unit: string[] }[] = [];
    for (const d of candidates) {
      const taken = [...sent, ...picked.flatMap((p) => p.unit)];
      const unit = wide ? [d.name] : nodesAround(original, result.model, [d], { except: taken })[0]!;
      // Its nodes go back with another's already.
      if (!unit.length) continue;
      const held = wide ? 0 : floatWeightElements(original, new Set([...taken, ...unit]));
      if (held <= MAX_WEIGHT_SHARE * weights) picked.push({ d, unit });
      else keptInt8(d, `in float, the nodes sent back would hold ${(100 * held / weights).toFixed(0)}% of the weights`);
    }
    if (!picked.length) break;
    const units = picked.map((p) => p.unit);
    let next: Attempt;
    try {
      next = await attempt([...sent, ...units.flat()]);
    } catch (err) {
      // Everything quantized was dominant, or 16 bits need an opset the model cannot reach: what there is stands, and says why.
      if (!(err instanceof OnnxpressError) || err.code !== 'UNSUPPORTED') throw err;
      warnings.push(`dominant quantizations kept: sending them back could not be built: ${err.message}`);
      break;
    }
    // Measured, not assumed: errors need not add up (a normalization after two quantizations
    // can cancel part of theirs) and sending nodes back changes the plan around them, so the
    // model must show a real part of the error gone: half the share, at least. On the PP-OCR
    // recognizer the search found two at over 100% and float made the error 3% worse.
    const after = await errorOf(next.model);
    if (!(after <= (1 - share / 2) * error)) {
      for (const { d } of picked) keptInt8(d, `back in ${wide ? '16 bits' : 'float'}, the output error went ${error.toExponential(2)} -> ${after.toExponential(2)} only`);
      break;
    }
    for (const [i, { d }] of picked.entries()) report.returned.push({ kind: d.kind, name: d.name, share: d.share, nodes: units[i]! });
    sent.push(...units.flat());
    result = next;
    error = report.outputErrorAfter = after;
  }
  return { sent, result, report, warnings, errorOf };
}
