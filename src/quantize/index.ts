// `quantizeModel`: one entry point for the four modes. Works in place on the given model
// (pass a clone to keep the original). It does not optimize first: callers that want
// BatchNorm folded and the graph cleaned up run optimizeModel before (the CLI and compress
// do, once), and whoever prints sizes measures them (nothing here serializes the model).
import type { Model } from '../ir/graph.js';
import { dataTypeFromOrtName } from '../ir/dtype.js';
import { exposeAsOutputs } from '../ir/mutate.js';
import { shapeDiagnostics } from '../ir/shapes.js';
import { upgradeOpset } from '../ir/upgrade-opset.js';
import { badOption, OnnxpressError } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import { optimizeModel } from '../optimize.js';
import { openSession } from '../runtime/ort.js';
import { generateSamples, type Sample } from '../runtime/samples.js';
import { quantizeDynamic } from './dynamic.js';
import { convertToFp16, staticValueTypes } from './fp16.js';
import { quantizeInt4 } from './int4.js';
import { TECHNIQUES, type LeftInFloat, type QuantizeOptions, type QuantizeReport, type SubgraphReport, type TechniqueReport } from './options.js';
import { applyTechniques } from './techniques/index.js';
import { quantizeStatic } from './static-qdq.js';
import { quantizeIfBodies } from './subgraphs.js';
import { quantizeWithinTolerance } from './mixed.js';
import { RECURRENT_CHOICES, quantizeRecurrent, recurrentNeedsAxis } from './recurrent.js';
import { isWide } from './quant-math.js';
import { restoreCastWeights, storeFloatWeightsAsHalf, widenCastWeights } from './cast-weights.js';
import { computesInHalf, decodeHalfCompute } from './float16-model.js';
import { quantizeWithBestMethod } from './auto-method.js';
import { dominantRuleApplies, quantizeWithoutDominant } from './dominant.js';

export type { QuantizeOptions, QuantizeReport, QuantizeMode, LeftInFloat, SubgraphReport, TechniqueReport, ToleranceReport } from './options.js';

export async function quantizeModel(model: Model, options: QuantizeOptions): Promise<QuantizeReport> {
  // The method first (on plain quantizations), then the tolerance's search with it.
  // int8-static calibrates with 'auto' unless told: minmax, the usual default, was the worst
  // of the three on every public model measured (README, calibration methods).
  if (options.dominantShare !== undefined && !(options.dominantShare >= 0 && options.dominantShare <= 1)) throw badOption(['dominantShare'], `dominantShare ${options.dominantShare}: expected a share between 0 (off) and 1`);
  if ((options.method ?? (options.mode === 'int8-static' ? 'auto' : undefined)) === 'auto') return quantizeWithBestMethod(model, options, quantizeModel);
  if (options.maxAccuracyDrop !== undefined || options.minCosine !== undefined) {
    // The tolerance's search does the measured work to the user's bound: no dominant-error rule inside its attempts.
    return quantizeWithinTolerance(model, options, (m, o) => quantizeModel(m, { ...o, maxAccuracyDrop: undefined, minCosine: undefined, dominantShare: 0 }));
  }
  if (dominantRuleApplies(options)) return quantizeWithoutDominant(model, options, quantizeModel);
  const warnings: string[] = [];
  const left: LeftInFloat[] = [];
  const shapeUnknown = shapeDiagnostics(model.graph);
  const opsetFrom = model.opset('') ?? 1;
  const asked = TECHNIQUES.filter((k) => options[k]);
  if (asked.length && options.mode !== 'int8-static') throw badOption([...asked], `${asked.join(', ')}: int8-static only (mode is ${options.mode})`);
  const int8 = options.mode === 'int8-dynamic' || options.mode === 'int8-static';
  if (options.recurrent !== undefined && !RECURRENT_CHOICES.includes(options.recurrent)) throw badOption(['recurrent'], `recurrent '${String(options.recurrent)}': expected ${RECURRENT_CHOICES.join(', ')}`);
  if (options.recurrent && options.recurrent !== 'float' && !int8) throw badOption(['recurrent'], `recurrent '${options.recurrent}': int8 modes only (mode is ${options.mode})`);
  if (options.halfWeights !== undefined && !['as-stored', 'float32', 'float16'].includes(options.halfWeights)) throw badOption(['halfWeights'], `halfWeights '${String(options.halfWeights)}': expected as-stored, float32 or float16`);
  // Weights stored as float16 behind a Cast are quantized from their values, a model computing
  // in float16 is decoded to float32 first; the weights left float go back to float16 afterwards.
  const weightModes = int8 || options.mode === 'int4';
  const widened = weightModes ? widenCastWeights(model) : [];
  if (weightModes && computesInHalf(model)) {
    const decoded = decodeHalfCompute(model);
    widened.push(...decoded.weights);
    await optimizeModel(model, { passes: ['eliminate-noop-ops'] });
    warnings.push(`the model computes in float16: decoded to float32 to quantize (${decoded.weights.length} weights${decoded.boundaryCasts ? `; its float16 inputs and outputs keep their type through ${decoded.boundaryCasts} Casts` : ''}); weights left float are stored ${options.halfWeights === 'float32' ? 'in float32 (halfWeights)' : 'as they were'}`);
  }
  let quantized: Record<string, number>;
  let techniques: TechniqueReport[] | undefined;
  let subgraphs: SubgraphReport[] | undefined;
  switch (options.mode) {
    case 'int8-dynamic': {
      // DynamicQuantizeLinear, MatMulInteger and ConvInteger arrived in opset 10/11.
      ensureOpset(model, 11, warnings);
      quantized = quantizeDynamic(model, options, left, warnings);
      break;
    }
    case 'int8-static': {
      const wantPerChannel = options.perChannel ?? true;
      if (isWide(options.activationType ?? 'uint8') || options.wideTensors?.length) ensureOpset(model, 21, warnings, '16-bit activations');
      const perChannel = wantPerChannel && tryOpset(model, 13, warnings);
      if (!perChannel) {
        if (wantPerChannel) warnings.push('per-channel weights need opset 13; quantized per tensor instead');
        ensureOpset(model, 10, warnings);
      }
      if (!options.calibration?.length) throw badOption(['calibration'], 'int8-static needs calibration samples to measure activation ranges on (calibration)');
      const applied = await applyTechniques(model, options, perChannel, warnings);
      techniques = applied.reports;
      quantized = await quantizeStatic(model, { ...options, weightOverrides: applied.weightOverrides }, left, perChannel);
      const bodies = await quantizeIfBodies(model, options, left, perChannel);
      for (const [op, n] of Object.entries(bodies.quantized)) quantized[op] = (quantized[op] ?? 0) + n;
      subgraphs = bodies.subgraphs;
      break;
    }
    case 'fp16': {
      // Cast's `to` became an integer in opset 6.
      ensureOpset(model, 6, warnings, 'float16 Casts');
      const types = await observedValueTypes(model, options.calibration);
      quantized = convertToFp16(model, options, left, types);
      break;
    }
    case 'int4': {
      quantized = quantizeInt4(model, options, left, warnings);
      break;
    }
    default:
      throw new OnnxpressError('BAD_INPUT', `unknown mode '${String(options.mode)}' (int8-dynamic, int8-static, fp16, int4)`);
  }
  // One scale per gate row needs DequantizeLinear's axis (opset 13); where the opset cannot be raised, one per tensor.
  if (int8 && options.recurrent && options.recurrent !== 'float' && options.perChannel !== false && recurrentNeedsAxis(model, options.recurrent, options) && !tryOpset(model, 13, warnings)) {
    warnings.push('recurrent weights: the opset cannot be raised to 13, so their int8 copies behind DequantizeLinear have one scale per tensor, not per gate row');
  }
  if (int8) for (const [what, n] of Object.entries(await quantizeRecurrent(model, options, left))) quantized[what] = (quantized[what] ?? 0) + n;
  if (options.halfWeights !== 'float32') restoreCastWeights(widened);
  if (options.halfWeights === 'float16' && weightModes) {
    const half = storeFloatWeightsAsHalf(model);
    if (half.weights) warnings.push(`halfWeights float16: ${half.weights} weight(s) left in float stored as float16 behind a Cast (${(half.bytesSaved / 1024).toFixed(1)} KiB saved; values rounded to float16)`);
  }
  // A model that comes out unchanged was not quantized: say why rather than write a copy.
  if (Object.keys(quantized).length === 0) throw new OnnxpressError('UNSUPPORTED', `nothing was quantized${left.length ? `: ${describeLeft(left)}` : ` (no ${options.mode} op in the graph)`}`);
  // Float weights that were replaced are unread now. In the int8 modes the hard-swish pieces
  // left in float (between DequantizeLinear and QuantizeLinear) become x * HardSigmoid(x): one
  // kernel for four, and the quantization plan, made on the decomposed form, stays as it was
  // (fused ahead of int8-static, the PP-OCR recognizer lost 1.3 points of characters). The
  // classifier's int8 in onnxruntime-web: 1.06x -> 0.96x of float's latency; in
  // onnxruntime-node 1.015x -> 0.93x; the same scores on all three PP-OCR models.
  await optimizeModel(model, { passes: int8 ? ['fuse-hard-sigmoid', 'eliminate-dead-nodes'] : ['eliminate-dead-nodes'] });
  return {
    mode: options.mode,
    quantized,
    leftInFloat: left,
    shapeUnknown,
    warnings,
    opset: { from: opsetFrom, to: model.opset('') ?? opsetFrom },
    ...(techniques?.length ? { techniques } : {}),
    ...(subgraphs?.length ? { subgraphs } : {}),
  };
}

/** Why nodes stayed float, the commonest reasons first, each with its first node: "62 Conv (first: Conv_3): not quantized by default ...". */
function describeLeft(left: LeftInFloat[]): string {
  const byReason = new Map<string, LeftInFloat[]>();
  for (const l of left) byReason.set(l.reason, [...(byReason.get(l.reason) ?? []), l]);
  return [...byReason].sort((a, b) => b[1].length - a[1].length).slice(0, 2)
    .map(([reason, ls]) => `${ls.length} node(s) (first: ${ls[0]!.node}, ${ls[0]!.opType}): ${reason}`).join('; ');
}

function tryOpset(model: Model, target: number, warnings: string[]): boolean {
  const r = upgradeOpset(model, target);
  if (r.ok && r.from < target) warnings.push(`opset raised from ${r.from} to ${target} (${r.rewritten} nodes rewritten to the newer form)`);
  return r.ok;
}

function ensureOpset(model: Model, target: number, warnings: string[], what = 'quantization'): void {
  const r = upgradeOpset(model, target);
  if (!r.ok) throw new OnnxpressError('UNSUPPORTED', `${what} need${what.endsWith('s') ? '' : 's'} opset ${target}, and this opset-${r.from} model cannot be raised safely: ${r.reason}`);
  if (r.from < target) warnings.push(`opset raised from ${r.from} to ${target} (${r.rewritten} nodes rewritten to the newer form)`);
}

/**
 * Element types of every main-graph value, as onnxruntime computes them on one sample
 * (exact where static inference is not), merged over the statically inferred ones.
 */
async function observedValueTypes(model: Model, samples: Sample[] | undefined): Promise<Map<string, number>> {
  const types = staticValueTypes(model.graph);
  const probe = cloneModel(model);
  const outputs = probe.graph.outputNames();
  const wanted = probe.graph.nodes.flatMap((n) => n.outputs).filter((o) => o && !outputs.has(o));
  exposeAsOutputs(probe.graph, wanted);
  try {
    const session = await openSession(probe);
    try {
      const sample = samples?.[0] ?? generateSamples(session.inputs, 1, 1)[0]!;
      const result = await session.run(sample);
      for (const [name, t] of Object.entries(result)) {
        const code = dataTypeFromOrtName(t.type);
        if (code !== undefined) types.set(name, code);
      }
    } finally {
      await session.release();
    }
  } catch {
    // Models that need real inputs to run (or hold sequences) keep the static types.
  }
  return types;
}
