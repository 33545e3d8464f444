// Channel pruning with calibration data: channels chosen by what removing them does to the
// output of the layers that read them, and those layers re-fitted by least squares on the
// kept channels (He et al. 2017) with bias compensation for the mean of the removed ones.
import type { Graph, Node } from '../ir/graph.js';
import { Tensor } from '../ir/tensor.js';
import { layerName, type LayerStats } from '../calibrate/index.js';
import { momentsOf, type LayerError } from './data-aware.js';
import { linalg } from '../calibrate/index.js';
import { DAMP, meanSquaredChange, type InputMoments } from './reconstruct.js';
import { biasOf, describe, rowsToWeight, weightRows, type PrunableLayer } from './weights.js';

export interface ChannelData {
  /** Input statistics of the layers reading the channels, by layer name (collected on the unpruned model). */
  stats: Map<string, LayerStats>;
  reconstruct: boolean;
}

export interface ConsumerView {
  layer: PrunableLayer;
  rows: Float64Array;
  /** Channel c of the group is columns [offset + c * block, offset + (c + 1) * block) of each row. */
  block: number;
  offset: number;
  channels: number;
  bias?: string;
  moments: InputMoments;
  /** Damage is measured as covariance when the bias will absorb the mean of what is removed. */
  centred: boolean;
}

/**
 * Where a group's channels sit in a consumer's input. A consumer after a Concat reads other
 * groups too: `columns` maps each of its current input columns to the one the statistics
 * (taken on the unpruned model, `width` wide) know it as.
 */
export interface ConsumerPlace { channels: number; offset: number; columns?: number[]; width?: number }

export function consumerView(g: Graph, c: { node: Node; block: number }, current: (name: string) => Tensor, data: ChannelData, place: ConsumerPlace): ConsumerView | undefined {
  const stats = data.stats.get(layerName(c.node));
  const weightName = c.node.inputs[1]!;
  const layer = describe(c.node, layerName(c.node), weightName, current(weightName), g);
  if (!stats || !layer || stats.groups !== 1) return undefined;
  const fits = place.columns ? stats.width === place.width && layer.fanIn === place.columns.length : stats.width === layer.fanIn;
  if (!fits) return undefined;
  const bias = biasOf(g, c.node, layer.outputs);
  const all = momentsOf(stats, 0);
  const moments = place.columns ? selectColumns(all, place.columns) : all;
  return { layer, rows: weightRows(layer), block: c.block, offset: place.offset, channels: place.channels, bias, moments, centred: Boolean(bias) && data.reconstruct };
}

/** The moments of the input columns `cols` (in that order). */
function selectColumns(m: InputMoments, cols: number[]): InputMoments {
  const n = cols.length;
  const second = m.second ? new Float64Array(n * n) : undefined;
  if (second) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) second[i * n + j] = m.second![cols[i]! * m.n + cols[j]!]!;
  return { n, mean: Float64Array.from(cols, (c) => m.mean[c]!), meanSquares: Float64Array.from(cols, (c) => m.meanSquares[c]!), second };
}

/** Per channel: the energy its columns add to the consumers' outputs, sum_k w_kc^T M_cc w_kc. */
export function outputEffect(consumers: ConsumerView[], channels: number): Float64Array {
  const importance = new Float64Array(channels);
  for (const v of consumers) {
    const { rows, block, moments: m } = v;
    const n = m.n;
    const mu = (j: number) => (v.centred ? m.mean[j]! : 0);
    for (let c = 0; c < channels; c++) {
      const a = v.offset + c * block;
      let e = 0;
      for (let r = 0; r < v.layer.outputs; r++) {
        const w = rows.subarray(r * n + a, r * n + a + block);
        if (m.second) {
          for (let i = 0; i < block; i++) {
            let s = 0;
            for (let j = 0; j < block; j++) s += (m.second[(a + i) * n + a + j]! - mu(a + i) * mu(a + j)) * w[j]!;
            e += w[i]! * s;
          }
        } else for (let j = 0; j < block; j++) e += w[j]! * w[j]! * (m.meanSquares[a + j]! - mu(a + j) ** 2);
      }
      importance[c]! += e;
    }
  }
  return importance;
}

/** Each consumer's output error when the channels outside `keep` are dropped and nothing else changes. */
export function maskErrors(consumers: ConsumerView[], keep: number[]): LayerError[] {
  const kept = new Set(keep);
  return consumers.map((v) => {
    const n = v.layer.fanIn, k = v.layer.outputs;
    // Columns outside the group's (other parts of a Concat) stay.
    const ours = (col: number) => col >= v.offset && col < v.offset + v.channels * v.block;
    const dropped = v.rows.map((w, i) => (!ours(i % n) || kept.has(Math.floor((i % n - v.offset) / v.block)) ? 0 : w));
    const reference = meanSquaredChange(v.rows, k, undefined, v.moments);
    const e = meanSquaredChange(dropped, k, undefined, v.moments);
    return { name: v.layer.name, before: reference ? e / reference : 0, after: reference ? e / reference : 0, update: 'none' as const };
  });
}

/** One consumer during greedy removal: its weights so far and P = (C + ridge)^-1 over the columns still kept. */
interface Fit { v: ConsumerView; w: Float64Array; p?: Float64Array; c: Float64Array | undefined }

/**
 * Greedy structured OBS: remove, one at a time, the channel whose removal costs the least
 * output error after the consumers re-fit on the rest, sum_k w_kB (P_BB)^-1 w_kB^T, then
 * apply that re-fit (W -= W_B (P_BB)^-1 P_B,:) and drop B from P. The final weights are the
 * ridge least-squares fit of each consumer on the kept channels (He et al. 2017); the bias
 * takes the mean of what changed (bias compensation). Consumers without X^T X contribute
 * their error without a re-fit. New tensors go to `replaced` at full width: slicing follows.
 */
export function removeAndRefit(consumers: ConsumerView[], channels: number, keepCount: number, replaced: Map<string, Tensor>, current: (name: string) => Tensor): { keep: number[]; errors: LayerError[] } {
  const fits: Fit[] = consumers.map((v) => {
    const n = v.layer.fanIn;
    const m = v.moments;
    if (!m.second) return { v, w: v.rows.slice(), c: undefined };
    const c = m.second.slice();
    if (v.centred) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) c[i * n + j]! -= m.mean[i]! * m.mean[j]!;
    for (let j = 0; j < n; j++) if (!(c[j * n + j]! > 0)) c[j * n + j] = 0;
    const l = linalg.dampedCholesky(c, n, DAMP);
    return { v, w: v.rows.slice(), p: linalg.inverseFromCholesky(l, n), c };
  });
  const alive = new Set(Array.from({ length: channels }, (_, i) => i));
  while (alive.size > keepCount) {
    let best = -1, bestCost = Infinity;
    for (const ch of alive) {
      let cost = 0;
      for (const f of fits) cost += removalCost(f, ch);
      if (cost < bestCost) { bestCost = cost; best = ch; }
    }
    for (const f of fits) remove(f, best);
    alive.delete(best);
  }
  const keep = [...alive].sort((a, b) => a - b);
  const before = maskErrors(consumers, keep);
  const errors = fits.map((f, idx): LayerError => {
    const { v, w } = f;
    const k = v.layer.outputs, n = v.layer.fanIn;
    const biasTensor = v.bias ? current(v.bias) : undefined;
    // The bias takes the mean of the change: E[(W - W') x] = (W - W') E[x].
    const biasChange = biasTensor && v.centred ? Float64Array.from({ length: k }, (_, r) => {
      let s = 0;
      for (let j = 0; j < n; j++) s += (v.rows[r * n + j]! - w[r * n + j]!) * v.moments.mean[j]!;
      return s;
    }) : undefined;
    const diff = v.rows.map((x, i) => x - w[i]!);
    const reference = meanSquaredChange(v.rows, k, undefined, v.moments);
    const after = meanSquaredChange(diff, k, biasChange?.map((x) => -x), v.moments);
    replaced.set(v.layer.weightName, Tensor.fromFloat32As(v.layer.weightName, v.layer.weight.dataType, v.layer.weight.dims, rowsToWeight(v.layer, w)));
    if (biasTensor && biasChange) replaced.set(v.bias!, Tensor.fromFloat32As(v.bias!, biasTensor.dataType, biasTensor.dims, Float32Array.from(biasTensor.toFloat32(), (b, r) => b + biasChange[r]!)));
    return { name: v.layer.name, before: before[idx]!.before, after: reference ? after / reference : 0, update: f.p ? 'least-squares' : biasChange ? 'bias' : 'none' };
  });
  return { keep, errors };
}

function columnsOf(f: Fit, ch: number): number[] {
  return Array.from({ length: f.v.block }, (_, t) => f.v.offset + ch * f.v.block + t);
}

function removalCost(f: Fit, ch: number): number {
  const { w } = f;
  const n = f.v.layer.fanIn, k = f.v.layer.outputs;
  const cols = columnsOf(f, ch);
  if (!f.p) {
    // No X^T X: the removed columns' own energy, features taken as uncorrelated.
    let e = 0;
    for (let r = 0; r < k; r++) for (const j of cols) e += w[r * n + j]! ** 2 * Math.max(0, f.v.moments.meanSquares[j]! - (f.v.centred ? f.v.moments.mean[j]! ** 2 : 0));
    return e;
  }
  const b = cols.length;
  const pbb = linalg.submatrix(f.p, n, cols, cols);
  const l = linalg.dampedCholesky(pbb, b, 1e-9);
  let e = 0;
  const t = new Float64Array(b);
  for (let r = 0; r < k; r++) {
    for (let i = 0; i < b; i++) t[i] = w[r * n + cols[i]!]!;
    const wb = t.slice();
    linalg.choleskySolve(l, b, t, 1);
    for (let i = 0; i < b; i++) e += wb[i]! * t[i]!;
  }
  return e;
}

function remove(f: Fit, ch: number): void {
  const { w, p } = f;
  const n = f.v.layer.fanIn, k = f.v.layer.outputs;
  const cols = columnsOf(f, ch);
  if (p) {
    const b = cols.length;
    const l = linalg.dampedCholesky(linalg.submatrix(p, n, cols, cols), b, 1e-9);
    // W -= (W_B P_BB^-1) P_B,: for every row.
    const t = new Float64Array(b);
    for (let r = 0; r < k; r++) {
      for (let i = 0; i < b; i++) t[i] = w[r * n + cols[i]!]!;
      linalg.choleskySolve(l, b, t, 1);
      const row = w.subarray(r * n, (r + 1) * n);
      for (let i = 0; i < b; i++) {
        const ti = t[i]!;
        if (ti === 0) continue;
        const pr = cols[i]! * n;
        for (let j = 0; j < n; j++) row[j]! -= ti * p[pr + j]!;
      }
    }
    // P -= P_:,B P_BB^-1 P_B,:  (the precision of the columns still kept).
    const pb = new Float64Array(b * n);
    for (let i = 0; i < b; i++) pb.set(p.subarray(cols[i]! * n, cols[i]! * n + n), i * n);
    const solved = pb.slice();
    linalg.choleskySolve(l, b, solved, n);
    for (let x = 0; x < n; x++) {
      for (let i = 0; i < b; i++) {
        const px = pb[i * n + x]!;
        if (px === 0) continue;
        const sr = i * n;
        const rowx = x * n;
        for (let y = 0; y < n; y++) p[rowx + y]! -= px * solved[sr + y]!;
      }
    }
    for (const j of cols) { for (let y = 0; y < n; y++) { p[j * n + y] = 0; p[y * n + j] = 0; } p[j * n + j] = 1; }
  }
  for (let r = 0; r < k; r++) for (const j of cols) w[r * n + j] = 0;
}
