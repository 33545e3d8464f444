// Calibration method 'auto' (int8-static): no one method wins everywhere. Measured per channel
// against float, minmax was best or tied on the MNIST CNNs and ResNet-20 by 1e-4 of cosine,
// and worst on every public model: the PP-OCR classifier 73.4% of orientations (percentile
// 79.7%), its recognizer 98.40% of characters (percentile 99.15%), the fp16 ISNet's mask
// cosine 0.941 (percentile 0.9931, entropy 0.99967). So 'auto' quantizes with each and keeps
// the one whose outputs are nearest float's on the samples (the worst output's cosine; ties
// go to the earlier method), and says what each scored.
import type { Model } from '../ir/graph.js';
import { badOption } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import { evalModels } from '../measure/eval.js';
import { CalibrationCache, type CalibrationMethod } from './calibrate.js';
import { dominantRuleApplies, quantizeWithoutDominant } from './dominant.js';
import { asksTechniques, TECHNIQUES, type QuantizeOptions, type QuantizeReport } from './options.js';

export const AUTO_METHODS: CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];
/** Samples the methods are compared on: enough to rank them, few enough to stay cheap. */
const COMPARE_SAMPLES = 16;

type Quantize = (model: Model, options: QuantizeOptions) => Promise<QuantizeReport>;

/** Quantizes `model` in place with the calibration method whose result is nearest float. */
export async function quantizeWithBestMethod(model: Model, o: QuantizeOptions, quantize: Quantize): Promise<QuantizeReport> {
  if (o.mode !== 'int8-static') throw badOption(['method'], `method 'auto': int8-static only (mode is ${o.mode})`);
  const samples = (o.evaluation ?? o.calibration ?? []).slice(0, COMPARE_SAMPLES);
  if (!samples.length) throw badOption(['calibration'], 'int8-static needs calibration samples to measure activation ranges on (calibration)');
  let best: { method: CalibrationMethod; cosine: number; model: Model; report: QuantizeReport } | undefined;
  const scores: { method: CalibrationMethod; cosine: number }[] = [];
  // Compared on plain quantizations: the tolerance's search and the accuracy techniques (GPTQ
  // alone takes 80 s on the PP-OCR recognizer) then run once, with the method chosen.
  const plain: QuantizeOptions = { ...o, maxAccuracyDrop: undefined, minCosine: undefined, dominantShare: 0, ...Object.fromEntries(TECHNIQUES.map((t) => [t, undefined])) };
  const rerun = o.maxAccuracyDrop !== undefined || o.minCosine !== undefined || asksTechniques(o);
  // The methods read one range and histogram per tensor: two passes over the samples, not five.
  const calibrationCache = new CalibrationCache(o.calibration ?? []);
  for (const method of AUTO_METHODS) {
    const candidate = cloneModel(model);
    const report = await quantize(candidate, { ...plain, method, calibrationCache });
    const e = await evalModels(model, candidate, { samples, quiet: true });
    // No float output to compare (Infinity) or a degenerate one (NaN: one side all zeros) ranks last.
    const worst = Math.min(...Object.values(e.outputs).map((m) => m.cosine));
    const cosine = Number.isFinite(worst) ? worst : -Infinity;
    scores.push({ method, cosine });
    if (!best || cosine > best.cosine) best = { method, cosine, model: candidate, report };
  }
  const chosen = best!.method;
  const withChosen = { ...o, method: chosen, calibrationCache };
  let report: QuantizeReport;
  if (rerun) report = await quantize(model, withChosen);
  // Without a rerun, the dominant-error rule starts from the quantization already made.
  else if (dominantRuleApplies(o)) report = await quantizeWithoutDominant(model, withChosen, quantize, best!);
  else { Object.assign(model, best!.model); report = best!.report; }
  const line = scores.map((s) => `${s.method} ${Number.isFinite(s.cosine) ? s.cosine.toFixed(5) : 'not comparable'}`).join(', ');
  return { ...report, calibrationMethod: { chosen, scores }, warnings: [...report.warnings, `calibration method auto: ${chosen} (worst-output cosine to float on ${samples.length} samples: ${line})`] };
}
