// Unstructured and N:M pruning with calibration statistics: Wanda scores (|w| * ||x_j||),
// then, unless told not to, a SparseGPT update of the surviving weights (and the bias) so
// the layer reproduces its original output on the calibration rows. Where X^T X was over
// the memory budget, the update is the bias compensation for the mean of what was removed.
import { replaceInitializer } from '../ir/mutate.js';
import type { Graph } from '../ir/graph.js';
import { Tensor } from '../ir/tensor.js';
import type { LayerStats } from '../calibrate/index.js';
import { linalg } from '../calibrate/index.js';
import { DAMP, meanSquaredChange, Quota, sparseGptRows, wandaRows, type InputMoments, type Selection } from './reconstruct.js';
import { setWeight } from './unstructured.js';
import { biasOf, rowsToWeight, weightRows, type PrunableLayer } from './weights.js';

/** Output error of a pruned layer relative to its output energy, on the calibration rows. */
export interface LayerError {
  name: string;
  /** With the data-aware mask only (what reconstruct: false gives). */
  before: number;
  /** After reconstruction (equal to before without it). */
  after: number;
  /** 'obs' / 'least-squares' with X^T X, 'bias' for bias compensation only, 'none'. */
  update: 'obs' | 'least-squares' | 'bias' | 'none';
}

/** Moments of group g, in the statistics' column order. */
export function momentsOf(stats: LayerStats, g: number): InputMoments {
  const n = stats.width;
  const mean = Float64Array.from({ length: n }, (_, j) => stats.mean(g, j));
  const meanSquares = Float64Array.from({ length: n }, (_, j) => (stats.count ? stats.sumSquares[g * n + j]! / stats.count : 0));
  return { n, mean, meanSquares, second: stats.secondMoment(g) };
}

/** [E xx^T, E x; E x^T, 1]: the second moment of the input with a constant 1 appended (the bias's input). */
function withConstant(m: InputMoments): Float64Array {
  const n = m.n + 1;
  const h = new Float64Array(n * n);
  for (let i = 0; i < m.n; i++) {
    for (let j = 0; j < m.n; j++) h[i * n + j] = m.second![i * m.n + j]!;
    h[i * n + m.n] = m.mean[i]!;
    h[m.n * n + i] = m.mean[i]!;
  }
  h[n * n - 1] = 1;
  return h;
}

/**
 * With statistics against the reference (unpruned) model: the weights (and bias) that best
 * reproduce the reference layer's output from the inputs the layer now gets, which the
 * layers pruned before it have changed: V E[x x^T] = W E[x_ref x^T] (with the constant
 * input appended when there is a bias). Pruning then starts from V, so each layer also
 * corrects the error that reaches it.
 */
function referenceTarget(stats: LayerStats, g: number, m: InputMoments, rows: Float64Array, k: number, bias: Float64Array | undefined): { rows: Float64Array; bias?: Float64Array } | undefined {
  const moments = stats.crossMoment(g);
  if (!moments) return undefined;
  const n = m.n;
  const width = bias ? n + 1 : n;
  const a = bias ? withConstant(m) : m.second!.slice();
  // B[i][j] = E[x_i x_ref_j], with the constant row and column when there is a bias.
  const b = new Float64Array(width * width);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i * width + j] = moments.cross[i * n + j]!;
  if (bias) {
    for (let i = 0; i < n; i++) { b[i * width + n] = m.mean[i]!; b[n * width + i] = moments.referenceMean[i]!; }
    b[n * width + n] = 1;
  }
  const wAug = new Float64Array(k * width);
  for (let r = 0; r < k; r++) {
    wAug.set(rows.subarray(r * n, (r + 1) * n), r * width);
    if (bias) wAug[r * width + n] = bias[r]!;
  }
  // V = W + Delta with A Delta^T = (B - A) W^T: the ridge then shrinks the correction, not
  // the weights, and a layer whose inputs did not change keeps its weights exactly.
  const rhs = new Float64Array(width * k);
  const diff = new Float64Array(width);
  for (let i = 0; i < width; i++) {
    for (let j = 0; j < width; j++) diff[j] = b[i * width + j]! - a[i * width + j]!;
    for (let r = 0; r < k; r++) {
      let s = 0;
      const w = r * width;
      for (let j = 0; j < width; j++) s += diff[j]! * wAug[w + j]!;
      rhs[i * k + r] = s;
    }
  }
  for (let j = 0; j < width; j++) if (a[j * width + j] === 0) a[j * width + j] = 1;
  linalg.choleskySolve(linalg.dampedCholesky(a, width, DAMP), width, rhs, k);
  const out = new Float64Array(k * n);
  for (let r = 0; r < k; r++) for (let j = 0; j < n; j++) out[r * n + j] = rows[r * n + j]! + rhs[j * k + r]!;
  return { rows: out, bias: bias ? Float64Array.from({ length: k }, (_, r) => bias[r]! + rhs[n * k + r]!) : undefined };
}

/** Output energies summed over the pieces of a layer: reference, after the mask alone, after the update. */
export interface ErrorSums { reference: number; before: number; after: number; update: LayerError['update'] }

/**
 * Prunes the columns `stats` covers (the whole row, or one piece of it) in every row of the
 * layer, writing the weights (and bias) back. Called once per piece; `quota` spans the layer.
 */
export function pruneColumnsWithData(graph: Graph, l: PrunableLayer, stats: LayerStats, sel: Selection, reconstruct: boolean, quota: Quota | undefined, sums: ErrorSums): void {
  const cols = stats.columns;
  const n = cols.length;
  const perGroup = l.outputs / stats.groups;
  const biasName = biasOf(graph, l.node, l.outputs);
  const bias = biasName ? graph.findInitializer(biasName)!.toFloat32() : undefined;
  const all = weightRows(l);
  const newBias = bias ? Float64Array.from(bias) : undefined;
  for (let g = 0; g < stats.groups; g++) {
    const m = momentsOf(stats, g);
    const rows = new Float64Array(perGroup * n);
    for (let r = 0; r < perGroup; r++) for (let j = 0; j < n; j++) rows[r * n + j] = all[(g * perGroup + r) * l.fanIn + cols[j]!]!;
    let groupBias: Float64Array | undefined = bias ? Float64Array.from(bias.subarray(g * perGroup, (g + 1) * perGroup)) : undefined;
    const target = reconstruct && m.second ? referenceTarget(stats, g, m, rows, perGroup, groupBias) : undefined;
    if (target) { rows.set(target.rows); groupBias = target.bias; }
    const original = rows.slice();
    const masked = rows.slice();
    // The reconstruction chooses its own mask; the mask-only figure must not use up its quota.
    const maskQuota = quota && reconstruct && m.second ? new Quota(quota.share) : quota;
    const zeros = wandaRows(masked, perGroup, n, m.meanSquares.map(Math.sqrt), sel, maskQuota);
    let result = masked;
    let biasChange: Float64Array | undefined;
    if (reconstruct && m.second) {
      sums.update = 'obs';
      const width = groupBias ? n + 1 : n;
      const aug = new Float64Array(perGroup * width);
      for (let r = 0; r < perGroup; r++) {
        aug.set(original.subarray(r * n, (r + 1) * n), r * width);
        if (groupBias) aug[r * width + n] = groupBias[r]!;
      }
      sparseGptRows(aug, perGroup, width, groupBias ? withConstant(m) : m.second, n, sel, quota);
      result = new Float64Array(perGroup * n);
      for (let r = 0; r < perGroup; r++) result.set(aug.subarray(r * width, r * width + n), r * n);
      if (groupBias) biasChange = Float64Array.from({ length: perGroup }, (_, r) => aug[r * width + n]! - groupBias![r]!);
    } else if (reconstruct && groupBias) {
      if (sums.update === 'none') sums.update = 'bias';
      biasChange = Float64Array.from({ length: perGroup }, (_, r) => {
        let s = 0;
        for (let j = 0; j < n; j++) if (zeros[r * n + j]) s += original[r * n + j]! * m.mean[j]!;
        return s;
      });
    }
    const diff = (w: Float64Array) => original.map((v, i) => v - w[i]!);
    sums.reference += meanSquaredChange(original, perGroup, undefined, m);
    sums.before += meanSquaredChange(diff(masked), perGroup, undefined, m);
    sums.after += meanSquaredChange(diff(result), perGroup, biasChange?.map((v) => -v), m);
    for (let r = 0; r < perGroup; r++) for (let j = 0; j < n; j++) all[(g * perGroup + r) * l.fanIn + cols[j]!] = result[r * n + j]!;
    // The bias moves by the re-fit to the reference (target) and by the pruning update.
    for (let r = 0; r < perGroup && newBias; r++) newBias[g * perGroup + r] = groupBias![r]! + (biasChange?.[r] ?? 0);
  }
  setWeight(graph, l, rowsToWeight(l, all));
  if (biasName && newBias && reconstruct) {
    const t = graph.findInitializer(biasName)!;
    replaceInitializer(graph, Tensor.fromFloat32As(biasName, t.dataType, t.dims, Float32Array.from(newBias)));
  }
}
