// What an edge target is: the recipes tried for it, how its latency is measured, what
// decides between candidates, and which ops and dtypes its models may contain.
import type { QuantizeOptions } from '../quantize/options.js';
import type { PruneOptions } from '../prune/index.js';
import { elemTypeOf, type Graph, type Model } from '../ir/graph.js';
import { DataType, dataTypeName } from '../ir/dtype.js';
import { inferShapes } from '../ir/shapes.js';
import type { Tolerances } from '../verdict.js';
import type { WebBuild } from '../runtime/browser.js';

/** One way to compress: prune (optional), then quantize, after the shared optimize step. */
export interface Recipe {
  name: string;
  /** Pruning without fine-tuning: only worth trying where the tolerances can say no. */
  prune?: PruneOptions;
  quantize: Omit<QuantizeOptions, 'calibration'>;
  /** Tried only on models this holds for (a recipe that would repeat another elsewhere). */
  appliesTo?: (model: Model) => boolean;
}

/** The recipes a profile tries on this model (those whose appliesTo holds, or that have none). */
export function recipesFor(profile: TargetProfile, model: Model): Recipe[] {
  return profile.recipes.filter((r) => !r.appliesTo || r.appliesTo(model));
}

export interface TargetProfile {
  name: string;
  description: string;
  /** What the profile assumes about the device, for the README and reports. */
  assumes: string;
  recipes: Recipe[];
  /**
   * Where latency is measured. With backend wasm, candidates are timed in headless Chromium
   * when one is available (both builds, cold and steady, all reported), and the verdict and
   * the choice read the steady-state runs of `browserBuild`.
   */
  bench: { backend: 'node' | 'wasm'; threads: number; browserBuild?: WebBuild };
  /** Which passing candidate wins: lowest median latency, fewest bytes, or fewest brotli bytes (what a browser downloads). */
  objective: 'latency' | 'size' | 'download';
  /** Op types the output may contain (default domain); undefined = any standard op. */
  allowedOps?: string[];
  /** Tensor element types initializers may have. */
  allowedDtypes: number[];
  /** Every float input of a compute op must come from DequantizeLinear (full-integer). */
  fullInteger?: boolean;
  /**
   * Tolerances that apply to every key the user leaves unset: a quality floor and, where the
   * latency measured here is the device's, "not slower than the original" (maxLatencyRatio 1).
   * maxAccuracyDrop applies only when labels are given.
   */
  defaults: Tolerances;
  /** Why latency has no default here (it is measured on a stand-in device); shown in the verdict. */
  latencyNotJudged?: string;
}

export interface ProfileViolation { kind: 'op' | 'dtype' | 'float-compute' | 'domain'; detail: string }

/**
 * Checks a compressed model against its profile's op and dtype lists. `original`: the model
 * it was made from, whose input and output types are the user's interface, not a choice
 * compression made: a float16 model's float16 inputs and outputs (and the Casts to them) pass.
 */
export function checkProfile(model: Model, profile: TargetProfile, original?: Model): ProfileViolation[] {
  const out: ProfileViolation[] = [];
  const allowed = profile.allowedOps ? new Set(profile.allowedOps) : undefined;
  const seenOps = new Set<string>();
  for (const g of model.graphs()) {
    const producers = g.producers();
    const shapes = profile.fullInteger ? inferShapes(g) : undefined;
    // Only float activations must come through DequantizeLinear; shape arithmetic is int64.
    const isFloatActivation = (i: string) => i && !g.findInitializer(i) && shapes?.get(i)?.elemType !== DataType.INT64 && shapes?.get(i)?.elemType !== DataType.INT32;
    for (const n of g.nodes) {
      if (!n.isOnnx()) { seenOps.add(`domain:${n.domain}.${n.opType}`); continue; }
      if (allowed && !allowed.has(n.opType)) seenOps.add(n.opType);
      if (profile.fullInteger && !['QuantizeLinear', 'DequantizeLinear'].includes(n.opType) && COMPUTE_OPS.has(n.opType)) {
        const floatFeed = n.inputs.slice(0, n.opType === 'Conv' || n.opType === 'Gemm' ? 2 : undefined).some((i) => isFloatActivation(i) && producers.get(i)?.opType !== 'DequantizeLinear');
        if (floatFeed) out.push({ kind: 'float-compute', detail: `${n.describe()} computes in float` });
      }
    }
  }
  for (const op of seenOps) out.push(op.startsWith('domain:') ? { kind: 'domain', detail: `${op.slice(7)} is not a standard ONNX op` } : { kind: 'op', detail: `${op} is not in the ${profile.name} op list` });
  const dtypes = new Set(profile.allowedDtypes);
  const bad = new Set<number>();
  for (const t of model.tensors()) if (!dtypes.has(t.dataType)) bad.add(t.dataType);
  for (const d of bad) out.push({ kind: 'dtype', detail: `${dataTypeName(d)} tensors are not allowed on ${profile.name}` });
  // Values computed at run time: a Cast names its result type, and graph inputs/outputs declare
  // theirs. The original's own inputs and outputs (and the Casts that make those outputs) pass.
  const given = new Map<string, number | undefined>();
  for (const v of original ? [...original.graph.inputs, ...original.graph.outputs] : []) given.set(v.name, elemTypeOf(v));
  const isGiven = (g: Graph, name: string, type: number) => g === model.graph && given.get(name) === type;
  const badValues = new Set<number>();
  for (const g of model.graphs()) {
    for (const n of g.nodes) if (n.isOnnx('Cast')) { const to = n.getInt('to'); if (to !== undefined && !dtypes.has(to) && !isGiven(g, n.outputs[0]!, to)) badValues.add(to); }
    for (const v of [...g.inputs, ...g.outputs]) { const t = elemTypeOf(v); if (t !== undefined && !dtypes.has(t) && !isGiven(g, v.name, t)) badValues.add(t); }
  }
  for (const d of badValues) if (!bad.has(d)) out.push({ kind: 'dtype', detail: `${dataTypeName(d)} values are computed, which ${profile.name} does not allow` });
  return out;
}

const COMPUTE_OPS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'Add', 'Mul', 'AveragePool', 'GlobalAveragePool', 'MaxPool', 'Concat', 'Softmax', 'Sigmoid']);

export const INT8_DTYPES = [DataType.FLOAT, DataType.INT8, DataType.UINT8, DataType.INT32, DataType.INT64, DataType.BOOL];
/** onnxruntime's CPU provider also runs 16-bit QuantizeLinear/DequantizeLinear (opset 21): the accuracy fallback's widened activations. */
export const CPU_DTYPES = [...INT8_DTYPES, DataType.INT16, DataType.UINT16];
export const FP16_DTYPES = [DataType.FLOAT16, DataType.FLOAT, DataType.INT32, DataType.INT64, DataType.BOOL];

/**
 * The quality floor a demanding user expects of int8. MLPerf Inference admits an int8 result
 * only when it keeps 99% of the fp32 accuracy, about 1 point of top-1 for a classifier in the
 * 75-95% range: hence maxAccuracyDrop 1. A cosine c leaves a relative error of about
 * sqrt(2(1 - c)) in an output: 0.99 allows 14%, more than any output a user reads as
 * unchanged. Per-channel int8 reaches 0.9999 on the MNIST nets, ultraface and Silero VAD; the
 * PP-OCR detector's static int8 (0.979) is the kind of loss this floor is there to catch.
 */
export const INT8_QUALITY: Tolerances = { minCosine: 0.99, maxAccuracyDrop: 1 };

/** "Not slower than the original": fails when the latency ratio is above 1 with 95% confidence. */
export const NOT_SLOWER: Tolerances = { maxLatencyRatio: 1 };

/** Compression that grows the file (QDQ pairs around a model of tiny weights) is no compression. */
export const NOT_LARGER: Tolerances = { maxSizeRatio: 1 };
