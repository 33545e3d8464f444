// The accuracy-restoring techniques of int8-static, in the order they must run: the
// float-preserving rescalings (cross-layer equalization, SmoothQuant) on the float graph,
// then the data-driven weight rounding (GPTQ) and bias correction, which hand their int8
// weights to the static quantizer (QuantizeOptions.weightOverrides) and edit float biases
// before it quantizes them. Every technique is off unless asked for.
import type { Model } from '../../ir/graph.js';
import { DataType } from '../../ir/dtype.js';
import { badOption } from '../../errors.js';
import { NameAllocator } from '../../ir/mutate.js';
import { layerName, streamLayerStats, type LayerStats, type StatsRequest } from '../../calibrate/index.js';
import { describe, weightRows, type PrunableLayer } from '../../prune/weights.js';
import { qRange, quantizeWeights } from '../quant-math.js';
import type { QuantizeOptions, TechniqueReport, WeightOverride } from '../options.js';
import { weightsRounded } from '../static-qdq.js';
import { meanShift, subtractFromBias } from './bias-correction.js';
import { equalizeCrossLayer } from './equalize.js';
import { gptqRound, roundToNearest } from './gptq.js';
import { smoothQuant } from './smooth-quant.js';

export async function applyTechniques(model: Model, o: QuantizeOptions, perChannel: boolean, warnings: string[]): Promise<{ weightOverrides?: Map<string, WeightOverride>; reports: TechniqueReport[] }> {
  const reports: TechniqueReport[] = [];
  if (o.equalize) {
    const r = equalizeCrossLayer(model.graph);
    reports.push({ name: 'equalize', layers: r.pairs, detail: `${r.pairs} conv pairs; mean channel-range spread ${r.spreadBefore.toFixed(1)} -> ${r.spreadAfter.toFixed(1)}` });
  }
  if (o.smoothQuant) {
    const alpha = typeof o.smoothQuant === 'object' ? o.smoothQuant.alpha : 0.5;
    if (!(alpha >= 0 && alpha <= 1)) throw badOption(['smoothQuant'], `smoothQuant.alpha must be between 0 and 1, got ${alpha}`);
    const r = await smoothQuant(model, o.calibration!, alpha);
    reports.push({ name: 'smoothQuant', layers: r.layers, detail: `${r.layers} MatMul/Gemm inputs rescaled (alpha ${alpha}); ${r.skipped} skipped (no foldable producer)` });
  }
  if (!o.gptq && !o.biasCorrection) return { reports };
  if ((o.weightType ?? 'int8') !== 'int8' || o.symmetricWeights === false) {
    warnings.push('gptq and biasCorrection need symmetric int8 weights; skipped');
    return { reports };
  }
  const rounded = await roundWeights(model, o, perChannel);
  if (o.gptq) reports.push({ name: 'gptq', layers: rounded.gptqLayers, detail: `${rounded.gptqLayers} layers rounded with their input Hessian; output error ${(100 * rounded.errorAfter / Math.max(1e-30, rounded.errorBefore)).toFixed(0)}% of plain rounding's on the calibration rows` });
  if (o.biasCorrection) reports.push({ name: 'biasCorrection', layers: rounded.biasCorrected, detail: `${rounded.biasCorrected} biases corrected for the mean shift of their rounded weights` });
  return { weightOverrides: rounded.overrides, reports };
}

interface Layer { layer: PrunableLayer; axis: number | undefined; scales: Float64Array; rows: Float64Array; q: Int8Array; shift: Float64Array; gptq: boolean }

/** Output axis of the weight as the static quantizer stores per-channel scales (undefined: per tensor only). */
function scaleAxis(l: PrunableLayer): number | undefined {
  if (l.node.opType === 'Conv') return 0;
  if (l.node.opType === 'Gemm') return l.node.getInt('transB', 0) ? 0 : 1;
  return l.weight.dims.length === 2 ? 1 : undefined;
}

/** The layers the static quantizer will quantize with a constant weight only they read. */
function roundableLayers(model: Model, o: QuantizeOptions): PrunableLayer[] {
  const g = model.graph;
  const consumers = g.consumers();
  const out: PrunableLayer[] = [];
  // The static quantizer's own plan, so a technique never rounds a weight it leaves in float
  // (the options' exclusions, and the convs its cost model keeps float).
  const rounded = weightsRounded(model, o);
  for (const node of g.nodes) {
    if (!node.isOnnx() || !['Conv', 'Gemm', 'MatMul'].includes(node.opType) || !rounded.has(node)) continue;
    const name = node.name || node.outputs[0] || '?';
    // Gemm with transA reads its input's rows as columns: the row statistics do not fit it.
    if (node.opType === 'Gemm' && node.getInt('transA', 0)) continue;
    const w = g.initializers.get(node.inputs[1] ?? '');
    if (!w || w.dataType !== DataType.FLOAT || (consumers.get(node.inputs[1]!) ?? []).length !== 1) continue;
    const l = describe(node, name, node.inputs[1]!, w, g);
    if (l && (node.opType !== 'Conv' || w.dims.length <= 4)) out.push(l);
  }
  return out;
}

async function roundWeights(model: Model, o: QuantizeOptions, perChannel: boolean) {
  const reduceRange = o.reduceRange ?? false;
  const [qmin, qmax] = qRange('int8', reduceRange);
  const layers = new Map<string, Layer>();
  for (const l of roundableLayers(model, o)) {
    const axis = perChannel ? scaleAxis(l) : undefined;
    if (perChannel && axis === undefined) continue;
    // The scales plain quantization would give: GPTQ moves values on this grid, not the grid.
    const s = quantizeWeights(l.weight.toFloat32(), l.weight.dims, { type: 'int8', symmetric: true, reduceRange }, axis).scales;
    const scales = Float64Array.from({ length: l.outputs }, (_, r) => s[s.length === 1 ? 0 : r]!);
    const rows = weightRows(l);
    const q = new Int8Array(l.outputs * l.fanIn);
    roundToNearest(rows, l.outputs, l.fanIn, scales, qmin, qmax, q);
    layers.set(layerName(l.node), { layer: l, axis, scales, rows, q, shift: new Float64Array(l.outputs), gptq: false });
  }
  const requests: StatsRequest[] = [...layers.values()].map((x) => ({ node: x.layer.node, weightDims: x.layer.weight.dims, gram: Boolean(o.gptq), workMatrices: 3, pieceMultiple: 1 }));
  let errorBefore = 0, errorAfter = 0;
  await streamLayerStats(model, requests, o.calibration!, { budgetBytes: o.statsBudgetBytes }, (pass) => {
    for (const stats of pass) {
      const x = layers.get(stats.layer)!;
      const e = roundPiece(x, stats, Boolean(o.gptq), qmin, qmax);
      errorBefore += e.before;
      errorAfter += e.after;
    }
  });
  const names = new NameAllocator(model.graph);
  const overrides = new Map<string, WeightOverride>();
  let biasCorrected = 0, gptqLayers = 0;
  for (const x of layers.values()) {
    const l = x.layer;
    if (x.gptq) gptqLayers++;
    if (o.biasCorrection && subtractFromBias(model.graph, l.node, x.shift, names)) biasCorrected++;
    if (!x.gptq && !o.biasCorrection) continue;
    const values = new Int8Array(l.weight.elementCount);
    for (let r = 0; r < l.outputs; r++) for (let k = 0; k < l.fanIn; k++) values[l.index(r, k)] = x.q[r * l.fanIn + k]!;
    const scales = x.axis === undefined ? Float32Array.of(x.scales[0]!) : Float32Array.from(x.scales);
    overrides.set(l.weightName, { values, scales, zeroPoints: new Int8Array(scales.length), axis: x.axis });
  }
  return { overrides, gptqLayers, biasCorrected, errorBefore, errorAfter };
}

/** GPTQ (where X^T X was gathered) and the mean shift on the columns one statistics object covers. */
function roundPiece(x: Layer, stats: LayerStats, gptq: boolean, qmin: number, qmax: number): { before: number; after: number } {
  const l = x.layer;
  const cols = stats.columns;
  const n = cols.length;
  const perGroup = l.outputs / stats.groups;
  let before = 0, after = 0;
  for (let g = 0; g < stats.groups; g++) {
    const rows = new Float64Array(perGroup * n);
    for (let r = 0; r < perGroup; r++) for (let j = 0; j < n; j++) rows[r * n + j] = x.rows[(g * perGroup + r) * l.fanIn + cols[j]!]!;
    const scales = x.scales.subarray(g * perGroup, (g + 1) * perGroup);
    const q = new Int8Array(perGroup * n);
    roundToNearest(rows, perGroup, n, scales, qmin, qmax, q);
    const h = gptq ? stats.secondMoment(g) : undefined;
    if (h) {
      before += outputError(rows, q, perGroup, n, scales, h);
      gptqRound(rows, perGroup, n, h, scales, qmin, qmax, q);
      after += outputError(rows, q, perGroup, n, scales, h);
      x.gptq = true;
    }
    for (let r = 0; r < perGroup; r++) for (let j = 0; j < n; j++) x.q[(g * perGroup + r) * l.fanIn + cols[j]!] = q[r * n + j]!;
    const mean = Float64Array.from({ length: n }, (_, j) => stats.mean(g, j));
    meanShift(rows, q, perGroup, n, scales, mean, x.shift, g * perGroup);
  }
  return { before, after };
}

/** E||(W_q - W) x||^2 summed over rows, with H = E[x x^T]. */
export function outputError(rows: Float64Array, q: Int8Array, k: number, n: number, scales: ArrayLike<number>, h: Float64Array): number {
  let total = 0;
  const d = new Float64Array(n);
  for (let r = 0; r < k; r++) {
    for (let j = 0; j < n; j++) d[j] = q[r * n + j]! * scales[r]! - rows[r * n + j]!;
    for (let i = 0; i < n; i++) {
      if (d[i] === 0) continue;
      let s = 0;
      for (let j = 0; j < n; j++) s += h[i * n + j]! * d[j]!;
      total += d[i]! * s;
    }
  }
  return total;
}
