// Channel pruning with calibration data: channels ranked by what removing them does to the
// output of the layers that read them, and those layers re-fitted by least squares on the
// kept channels (He et al. 2017) with bias compensation for the mean of the removed ones.
import type { Graph, Node } from '../ir/graph.js';
import { Tensor } from '../ir/tensor.js';
import { layerName, type LayerStats } from '../calibrate/index.js';
import { momentsOf, type LayerError } from './data-aware.js';
import { meanSquaredChange, refitColumns, type InputMoments } from './reconstruct.js';
import { biasOf, describe, rowsToWeight, weightRows, type PrunableLayer } from './weights.js';

export interface ChannelData {
  /** Input statistics of the layers reading the channels, by layer name (collected on the unpruned model). */
  stats: Map<string, LayerStats>;
  reconstruct: boolean;
}

export interface ConsumerView {
  layer: PrunableLayer;
  rows: Float64Array;
  /** Channel c is columns [c * block, (c + 1) * block) of each row. */
  block: number;
  bias?: string;
  moments: InputMoments;
  /** Damage is measured as covariance when the bias will absorb the mean of what is removed. */
  centred: boolean;
}

export function consumerView(g: Graph, c: { node: Node; block: number }, current: (name: string) => Tensor, data: ChannelData): ConsumerView | undefined {
  const stats = data.stats.get(layerName(c.node));
  const weightName = c.node.inputs[1]!;
  const layer = describe(c.node, layerName(c.node), weightName, current(weightName), g);
  if (!stats || !layer || stats.groups !== 1 || stats.width !== layer.fanIn) return undefined;
  const bias = biasOf(g, c.node, layer.outputs);
  return { layer, rows: weightRows(layer), block: c.block, bias, moments: momentsOf(stats, 0), centred: Boolean(bias) && data.reconstruct };
}

/** Per channel: the energy its columns add to the consumers' outputs, sum_k w_kc^T M_cc w_kc. */
export function outputEffect(consumers: ConsumerView[], channels: number): Float64Array {
  const importance = new Float64Array(channels);
  for (const v of consumers) {
    const { rows, block, moments: m } = v;
    const n = m.n;
    const mu = (j: number) => (v.centred ? m.mean[j]! : 0);
    for (let c = 0; c < channels; c++) {
      const a = c * block;
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

/** Re-fits each consumer for the kept channels; new tensors go to `replaced` (full width: slicing follows). */
export function refitConsumers(g: Graph, consumers: ConsumerView[], keep: number[], reconstruct: boolean, replaced: Map<string, Tensor>): LayerError[] {
  const kept = new Set(keep);
  const errors: LayerError[] = [];
  for (const v of consumers) {
    const { layer, block } = v;
    const k = layer.outputs;
    const n = layer.fanIn;
    const removed = new Set<number>();
    for (let j = 0; j < n; j++) if (!kept.has(Math.floor(j / block))) removed.add(j);
    const raw = v.moments;
    const biasTensor = v.bias ? replaced.get(v.bias) ?? g.findInitializer(v.bias)! : undefined;
    const bias = biasTensor ? Float64Array.from(biasTensor.toFloat32()) : undefined;
    const reference = meanSquaredChange(v.rows, k, bias, raw);
    const dropped = v.rows.map((w, i) => (removed.has(i % n) ? w : 0));
    const before = meanSquaredChange(dropped, k, undefined, raw);
    let after = before;
    let update: LayerError['update'] = 'none';
    if (reconstruct && (raw.second || bias)) {
      const rows = v.rows.slice();
      const biasChange = refitColumns(rows, k, raw, removed, Boolean(bias));
      update = raw.second ? 'least-squares' : 'bias';
      const diff = v.rows.map((w, i) => (removed.has(i % n) ? w : w - rows[i]!));
      after = meanSquaredChange(diff, k, biasChange?.map((x) => -x), raw);
      replaced.set(layer.weightName, Tensor.fromFloat32(layer.weightName, layer.weight.dims, rowsToWeight(layer, rows)));
      if (biasTensor && biasChange) replaced.set(v.bias!, Tensor.fromFloat32(v.bias!, biasTensor.dims, Float32Array.from(bias!, (b, r) => b + biasChange[r]!)));
    }
    errors.push({ name: layer.name, before: reference ? before / reference : 0, after: reference ? after / reference : 0, update });
  }
  return errors;
}
