// Sensitivity-driven mixed precision: when a quantized model misses the accuracy the caller
// asked for (maxAccuracyDrop, minCosine), the nodes that add the most error (ranked by
// perTensorErrors, as compress's fallback ranks them) return to float, or keep 8-bit weights
// with 16-bit activations (fallback '16-bit': the file stays as small), the fewest that meet
// it: 1, 2, 4 ... until it holds, then a bisection between the last two counts.
import type { Model } from '../ir/graph.js';
import { badOption } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import { evalModels, perTensorErrors, type EvalReport } from '../measure/eval.js';
import type { QuantizeOptions, QuantizeReport, ToleranceReport } from './options.js';
import { pairSensitivity } from './sensitivity.js';
import { quantizesInputs } from './qdq-placement.js';

type Quantize = (model: Model, options: QuantizeOptions) => Promise<QuantizeReport>;

/**
 * The ranked nodes, each followed by the readers of its output that quantize their inputs:
 * a tensor read by a Conv/MatMul/Gemm keeps its Q/DQ pair until that reader is float too.
 */
function withReaders(model: Model, ranked: string[]): string[] {
  const byName = new Map(model.graph.nodes.map((n) => [n.name || n.outputs[0] || '?', n]));
  const consumers = model.graph.consumers();
  const out: string[] = [];
  for (const name of ranked) {
    const node = byName.get(name);
    const readers = (node?.outputs ?? []).flatMap((o) => consumers.get(o) ?? []).filter((c) => quantizesInputs(c.opType)).map((c) => c.name || c.outputs[0] || '?');
    for (const n of [name, ...readers]) if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** How far the candidate is from the tolerance: the measured value and whether it holds. */
function check(o: QuantizeOptions, e: EvalReport): { value: number; pass: boolean; metric: 'accuracyDrop' | 'cosine' } {
  if (o.minCosine !== undefined) {
    const value = Math.min(...Object.values(e.outputs).map((m) => m.cosine));
    if (o.maxAccuracyDrop === undefined || !(value >= o.minCosine)) return { value, pass: value >= o.minCosine, metric: 'cosine' };
  }
  // In points; without labels, the share of samples whose top-1 class changed.
  const first = Object.values(e.outputs)[0];
  const value = 100 * (e.accuracy ? -e.accuracy.delta : 1 - (first?.top1Agreement ?? 1));
  return { value, pass: value <= o.maxAccuracyDrop!, metric: 'accuracyDrop' };
}

/**
 * Quantizes `model` in place with `quantize`, returning nodes to float until the options'
 * tolerance holds on the calibration samples (or `evaluation`), and says which.
 */
export async function quantizeWithinTolerance(model: Model, o: QuantizeOptions, quantize: Quantize): Promise<QuantizeReport> {
  const samples = o.evaluation ?? o.calibration;
  if (!samples?.length) throw badOption(['calibration', 'maxAccuracyDrop', 'minCosine'], 'maxAccuracyDrop and minCosine are measured on samples: give calibration (or evaluation)');
  if (o.maxAccuracyDrop !== undefined && !(o.maxAccuracyDrop >= 0 && o.maxAccuracyDrop <= 100)) throw badOption(['maxAccuracyDrop'], `maxAccuracyDrop ${o.maxAccuracyDrop}: expected points between 0 and 100`);
  if (o.minCosine !== undefined && !(o.minCosine > -1 && o.minCosine <= 1)) throw badOption(['minCosine'], `minCosine ${o.minCosine}: expected a number in (-1, 1]`);
  const original = cloneModel(model);
  const wideFallback = o.fallback === '16-bit';
  const evalOptions = { samples, labels: o.evaluationLabels, quiet: true };
  const attempt = async (keep: string[]) => {
    const m = cloneModel(original);
    const fallback = wideFallback ? { wideTensors: [...(o.wideTensors ?? []), ...keep] } : { excludeNodes: [...(o.excludeNodes ?? []), ...keep] };
    const report = await quantize(m, { ...o, ...fallback, reuseCalibration: true });
    return { m, report, result: check(o, await evalModels(original, m, evalOptions)) };
  };
  let best = await attempt([]);
  const first = best.result;
  let kept: string[] = [];
  if (!first.pass) {
    // 16-bit: the activations whose quantization alone hurts the outputs most go first.
    // Float: any node may carry added error (a float op's output is quantized for the Conv reading it).
    const ranked = wideFallback
      ? (await pairSensitivity(best.m, samples.slice(0, 4))).map((t) => t.tensor)
      : withReaders(original, (await perTensorErrors(original, best.m, samples.slice(0, 16))).filter((t) => t.added > 0).map((t) => t.node));
    let failing = 0;
    let passing: { n: number; a: typeof best } | undefined;
    for (let n = 1; ranked.length; n = Math.min(n * 2, ranked.length)) {
      const a = await attempt(ranked.slice(0, n));
      if (a.result.pass) { passing = { n, a }; break; }
      failing = n;
      if (n >= ranked.length) break;
    }
    // The fewest between the last failing and the first passing count.
    while (passing && passing.n - failing > 1) {
      const mid = (failing + passing.n) >> 1;
      const a = await attempt(ranked.slice(0, mid));
      if (a.result.pass) passing = { n: mid, a };
      else failing = mid;
    }
    if (passing) { best = passing.a; kept = ranked.slice(0, passing.n); }
  }
  Object.assign(model, best.m);
  const tolerance: ToleranceReport = { metric: best.result.metric, before: first.value, after: best.result.value, met: best.result.pass, fallback: wideFallback ? '16-bit' : 'float', returnedToFloat: wideFallback ? [] : kept, widened: wideFallback ? kept : [] };
  if (!best.result.pass) best.report.warnings.push(`${best.result.metric} ${best.result.value.toFixed(4)} misses the tolerance even with every ranked node in ${wideFallback ? '16-bit' : 'float'}`);
  return { ...best.report, tolerance };
}
