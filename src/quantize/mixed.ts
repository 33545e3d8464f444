// Sensitivity-driven mixed precision: when a quantized model misses the accuracy the caller
// asked for (maxAccuracyDrop, minCosine), the activations whose quantization alone hurts the
// outputs most (sensitivity.ts, as compress's fallback ranks them) go back to float with the
// nodes around them, or keep 8-bit weights and get 16-bit activations (fallback '16-bit': the
// file stays as small), the fewest that meet it: 1, 2, 4 ... units until it holds, then a
// bisection between the last two counts.
import type { Model } from '../ir/graph.js';
import { badOption, OnnxpressError } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import { evalModels, type EvalReport } from '../measure/eval.js';
import type { QuantizeOptions, QuantizeReport, ToleranceReport } from './options.js';
import { CalibrationCache } from './calibrate.js';
import { fallbackUnits } from './sensitivity.js';

type Quantize = (model: Model, options: QuantizeOptions) => Promise<QuantizeReport>;

/** Whether `a` is nearer the tolerance than `b` (higher cosine, smaller drop). */
function closer(a: ReturnType<typeof check>, b: ReturnType<typeof check>): boolean {
  return a.metric === 'cosine' && b.metric === 'cosine' ? a.value > b.value : a.metric === b.metric && a.value < b.value;
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
  if (o.fallback === '16-bit' && o.mode !== 'int8-static') throw badOption(['fallback', 'mode'], `fallback '16-bit' widens activation Q/DQ pairs, which only int8-static has (mode is ${o.mode})`);
  const original = cloneModel(model);
  const wideFallback = o.fallback === '16-bit';
  const evalOptions = { samples, labels: o.evaluationLabels, quiet: true };
  // Every attempt quantizes a clone of the same model on the same samples: measured once
  // (unless a technique makes each attempt's float model its own: see calibrationCache).
  const calibrationCache = o.calibration ? o.calibrationCache ?? new CalibrationCache(o.calibration) : undefined;
  const attempt = async (keep: string[]) => {
    const m = cloneModel(original);
    const fallback = wideFallback ? { wideTensors: [...(o.wideTensors ?? []), ...keep] } : { excludeNodes: [...(o.excludeNodes ?? []), ...keep] };
    const report = await quantize(m, { ...o, ...fallback, calibrationCache });
    return { m, report, result: check(o, await evalModels(original, m, evalOptions)) };
  };
  // A count that cannot be built does not pass: every quantized node back in float is the
  // original again, and 16 bits need an opset 21 the model may not reach.
  let unbuilt: string | undefined;
  const attemptOrNone = (keep: string[]) => attempt(keep).catch((err: unknown) => {
    if (!(err instanceof OnnxpressError) || err.code !== 'UNSUPPORTED') throw err;
    unbuilt ??= err.message;
    return undefined;
  });
  let best = await attempt([]);
  const plain = best.result;
  let kept: string[] = [];
  if (!plain.pass) {
    const units = await fallbackUnits(original, best.m, samples, wideFallback ? '16-bit' : 'float', { rescaled: Boolean(o.equalize || o.smoothQuant) });
    const first = (n: number) => units.slice(0, n).flat();
    let failing = 0;
    let passing: { n: number; a: typeof best } | undefined;
    let closest = { n: 0, a: best };
    for (let n = 1; units.length; n = Math.min(n * 2, units.length)) {
      const a = await attemptOrNone(first(n));
      if (a?.result.pass) { passing = { n, a }; break; }
      if (a && closer(a.result, closest.a.result)) closest = { n, a };
      failing = n;
      if (n >= units.length) break;
    }
    // The fewest between the last failing and the first passing count.
    while (passing && passing.n - failing > 1) {
      const mid = (failing + passing.n) >> 1;
      const a = await attemptOrNone(first(mid));
      if (a?.result.pass) passing = { n: mid, a };
      else failing = mid;
    }
    // Out of reach: the closest attempt, which the warning below says misses.
    const chosen = passing ?? (closest.n ? closest : undefined);
    if (chosen) { best = chosen.a; kept = first(chosen.n); }
  }
  Object.assign(model, best.m);
  const tolerance: ToleranceReport = { metric: best.result.metric, before: plain.value, after: best.result.value, met: best.result.pass, fallback: wideFallback ? '16-bit' : 'float', returnedToFloat: wideFallback ? [] : kept, widened: wideFallback ? kept : [] };
  if (unbuilt && !best.result.pass) best.report.warnings.push(`some fallback counts could not be built: ${unbuilt}`);
  if (!best.result.pass) best.report.warnings.push(`${best.result.metric} ${best.result.value.toFixed(4)} misses the tolerance: no count of ranked ${wideFallback ? 'activations in 16-bit' : 'nodes in float'} meets it; the closest is kept`);
  return { ...best.report, tolerance };
}
