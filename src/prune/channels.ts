// Structured channel pruning: removes whole output channels (Conv) or hidden units
// (Gemm/MatMul) and shrinks every tensor that depends on them, so the model is really
// smaller and faster. Channels that must stay aligned form a group: outputs joined by
// Add/Mul (residuals), carried through depthwise convs, BatchNorm, activations and pooling.
// A group is pruned as one, or skipped with the reason when anything in it is not understood
// (Concat, a graph output, a reshape that moves channels, a subgraph capture ...).
// Without data a group's channels are ranked by weight norms; with calibration statistics of
// the layers that read them, by their effect on those layers' outputs, which are then
// re-fitted (channel-refit.ts).
import { dropValueInfoWhere, replaceInitializer } from '../ir/mutate.js';
import type { Graph, Model, Node } from '../ir/graph.js';
import { DataType, isWeightFloat } from '../ir/dtype.js';
import { inferShapes } from '../ir/shapes.js';
import { Tensor } from '../ir/tensor.js';
import { consumerView, maskErrors, outputEffect, removeAndRefit, type ChannelData } from './channel-refit.js';
import { layerName, type LayerStats } from '../calibrate/index.js';
import type { LayerError } from './data-aware.js';

export type { ChannelData } from './channel-refit.js';

export interface ChannelOptions {
  /** Share of channels to remove from each group (0..1). */
  ratio: number;
  norm: 'l1' | 'l2';
  /** Node names whose output channels are kept. */
  exclude?: string[];
}

export interface GroupReport {
  producers: string[];
  channels: number;
  kept: number;
  skipped?: string;
  /** With calibration data: each next layer's output error from the removal, before and after its re-fit. */
  errors?: LayerError[];
}

/** A use of a channel space: a tensor whose `axis` indexes the group's channels (in blocks of `block`). */
interface Slice { tensor: string; axis: number; block: number }

interface Space {
  id: number;
  size: number;
  parent: number;
  producers: { node: Node; weight: string; axis: number }[];
  slices: Slice[];
  /** int64 shape constants whose entry `index` counts channels in blocks of `block`. */
  shapeFixes: { tensor: string; index: number; block: number }[];
  /** Depthwise convs the channels run through: their group becomes the kept count. */
  depthwise: Node[];
  /** Layers reducing over the channels (the "next layers"): channel c is their input columns [c * block, (c + 1) * block). */
  consumers: { node: Node; block: number }[];
  blocked?: string;
}

const PASS_THROUGH = new Set(['Relu', 'LeakyRelu', 'Clip', 'Sigmoid', 'Tanh', 'HardSwish', 'HardSigmoid', 'Identity', 'Dropout', 'MaxPool', 'AveragePool',
  'GlobalAveragePool', 'GlobalMaxPool', 'Elu', 'Selu', 'Softplus', 'Mish', 'Gelu', 'Erf', 'Neg', 'Abs', 'Cast']);
const JOINS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum']);

/** Channel groups of a model, found before anything changes (so calibration can look at their layers). */
export interface ChannelPlan { roots: Space[] }

/** The layers that read each prunable group's channels: where activation statistics are needed. */
export function channelConsumers(plan: ChannelPlan): Node[] {
  return [...new Set(plan.roots.filter((s) => !s.blocked).flatMap((s) => s.consumers.map((c) => c.node)))];
}

export function planChannels(model: Model, o: Pick<ChannelOptions, 'exclude'>): ChannelPlan {
  const g = model.graph;
  const shapes = inferShapes(g);
  const spaces: Space[] = [];
  const find = (id: number): Space => { let s = spaces[id]!; while (s.parent !== s.id) s = spaces[s.parent]!; return s; };
  const valueSpace = new Map<string, { space: number; axis: number; block: number }>();
  const newSpace = (size: number): number => { spaces.push({ id: spaces.length, size, parent: spaces.length, producers: [], slices: [], shapeFixes: [], depthwise: [], consumers: [] }); return spaces.length - 1; };
  const block = (name: string, reason: string) => { const v = valueSpace.get(name); if (v) { const s = find(v.space); s.blocked ??= reason; } };
  const constOf = (name: string | undefined) => (name ? g.findInitializer(name) : undefined);
  const isFloatConst = (name: string | undefined) => isWeightFloat(constOf(name)?.dataType ?? 0);

  for (const node of g.nodes) {
    const spaced = node.inputs.filter((i) => i && valueSpace.has(i));
    const out = node.outputs[0] ?? '';
    const name = node.name || out;
    if (node.subgraphs().length) {
      for (const c of node.subgraphs().flatMap((sg) => [...sg.capturedNames()])) block(c, `read inside the subgraph of ${node.describe()}`);
      for (const i of spaced) block(i, `read by ${node.describe()}`);
      continue;
    }
    const op = node.isOnnx() ? node.opType : `${node.domain}.${node.opType}`;
    // 1. Consumers that reduce over the channels of their input.
    if ((op === 'Conv' || op === 'Gemm' || op === 'MatMul') && spaced.length) {
      const x = valueSpace.get(node.inputs[0]!);
      const w = constOf(node.inputs[1]);
      const depthwise = op === 'Conv' && w && node.getInt('group', 1) > 1 && node.getInt('group', 1) === w.dims[0] && w.dims[1] === 1;
      if (!x || spaced.length > 1 || !w || !isWeightFloat(w.dataType)) { for (const i of spaced) block(i, `${node.describe()} is not a plain weighted op`); continue; }
      if (depthwise) {
        // One filter per channel: the channels flow through, and its weights and bias follow them.
        const s = find(x.space);
        s.slices.push({ tensor: node.inputs[1]!, axis: 0, block: 1 });
        s.depthwise.push(node);
        if (node.inputs[2]) { if (isFloatConst(node.inputs[2])) s.slices.push({ tensor: node.inputs[2], axis: 0, block: 1 }); else s.blocked ??= `${node.describe()} bias is not constant`; }
        valueSpace.set(out, { space: s.id, axis: 1, block: 1 });
        continue;
      }
      if (op === 'Conv' && node.getInt('group', 1) !== 1) { block(node.inputs[0]!, `${node.describe()} is a grouped conv`); continue; }
      const s = find(x.space);
      if (op === 'Conv') { s.slices.push({ tensor: node.inputs[1]!, axis: 1, block: x.block }); s.consumers.push({ node, block: x.block * w.dims.slice(2).reduce((a, b) => a * b, 1) }); }
      else {
        if (op === 'Gemm' && node.getInt('transA', 0)) { s.blocked ??= `${node.describe()} has transA`; continue; }
        const transB = op === 'Gemm' && node.getInt('transB', 0) === 1;
        if (w.dims.length !== 2 || x.axis !== (shapes.get(node.inputs[0]!)?.dims?.length ?? 0) - 1) { s.blocked ??= `${node.describe()} does not reduce over the channel axis`; continue; }
        s.slices.push({ tensor: node.inputs[1]!, axis: transB ? 1 : 0, block: x.block });
        s.consumers.push({ node, block: x.block });
      }
    } else if (spaced.length) {
      // 2. Ops that carry channels through unchanged, or join two spaces.
      const x = valueSpace.get(spaced[0]!)!;
      if (PASS_THROUGH.has(op)) {
        valueSpace.set(out, x);
      } else if (op === 'BatchNormalization' && node.inputs[0] === spaced[0] && node.outputs.filter(Boolean).length === 1) {
        const s = find(x.space);
        for (const p of node.inputs.slice(1, 5)) { if (isFloatConst(p)) s.slices.push({ tensor: p!, axis: 0, block: 1 }); else s.blocked ??= `${node.describe()} parameters are not constant`; }
        valueSpace.set(out, x);
      } else if (JOINS.has(op)) {
        let merged = find(x.space);
        let ok = true;
        for (const i of node.inputs) {
          if (!i) continue;
          const v = valueSpace.get(i);
          if (v) {
            const other = find(v.space);
            if (v.axis !== x.axis || v.block !== x.block || other.size !== merged.size) { ok = false; break; }
            if (other !== merged) { other.parent = merged.id; merged.producers.push(...other.producers); merged.slices.push(...other.slices); merged.shapeFixes.push(...other.shapeFixes); merged.depthwise.push(...other.depthwise); merged.consumers.push(...other.consumers); merged.blocked ??= other.blocked; }
            merged = find(merged.id);
          } else {
            const c = constOf(i);
            const rank = shapes.get(out)?.dims?.length;
            if (!c || !isWeightFloat(c.dataType) || rank === undefined) { ok = false; break; }
            if (c.elementCount === 1) continue;
            // A per-channel constant ([C], [C,1,1], [1,C,1,1]) follows the channels.
            const axisInConst = c.dims.length - (rank - x.axis);
            if (axisInConst < 0 || c.dims[axisInConst] !== merged.size || c.elementCount !== merged.size) { ok = false; break; }
            merged.slices.push({ tensor: i, axis: axisInConst, block: 1 });
          }
        }
        if (!ok) { for (const i of spaced) block(i, `${node.describe()} mixes channels with something of another shape`); continue; }
        valueSpace.set(out, { space: merged.id, axis: x.axis, block: x.block });
      } else if ((op === 'Flatten' || op === 'Reshape') && x.axis === 1) {
        // [N, C, H, W] -> [N, C*H*W]: channel c becomes the block of H*W values at c*H*W.
        const dims = shapes.get(spaced[0]!)?.dims;
        const outDims = shapes.get(out)?.dims;
        const spatial = dims?.slice(2);
        if (!dims || !outDims || outDims.length !== 2 || !spatial?.every((d): d is number => typeof d === 'number') || (op === 'Flatten' && node.getInt('axis', 1) !== 1)) {
          block(spaced[0]!, `${node.describe()} reshapes channels in a way not followed`);
          continue;
        }
        const width = x.block * spatial.reduce((a, b) => a * b, 1);
        if (op === 'Reshape') {
          // Target [N, -1] follows the channels; [N, C*H*W] names the width: fix it after pruning.
          const target = constOf(node.inputs[1]);
          const t = target?.toNumbers();
          if (!target || !t || t.length !== 2) { block(spaced[0]!, `${node.describe()} target shape is not a constant [N, width]`); continue; }
          if (t[1] !== -1) find(x.space).shapeFixes.push({ tensor: node.inputs[1]!, index: 1, block: width });
        }
        valueSpace.set(out, { space: x.space, axis: 1, block: width });
      } else {
        for (const i of spaced) block(i, `read by ${node.describe()}`);
        continue;
      }
    }
    // 3. Producers: a Conv/Gemm/MatMul with constant weights starts a space of its own.
    if ((op === 'Conv' || op === 'Gemm' || op === 'MatMul') && !(valueSpace.has(out))) {
      const w = constOf(node.inputs[1]);
      if (!w || !isWeightFloat(w.dataType)) continue;
      const transB = op === 'Gemm' && node.getInt('transB', 0) === 1;
      if (op === 'Conv' && node.getInt('group', 1) !== 1) continue;
      if (op !== 'Conv' && w.dims.length !== 2) continue;
      const axis = op === 'Conv' ? 0 : transB ? 0 : 1;
      const id = newSpace(w.dims[axis]!);
      const s = spaces[id]!;
      s.producers.push({ node, weight: node.inputs[1]!, axis });
      if (node.inputs[2]) { if (isFloatConst(node.inputs[2]) && constOf(node.inputs[2])!.elementCount === s.size) s.slices.push({ tensor: node.inputs[2], axis: 0, block: 1 }); else s.blocked = `${node.describe()} bias is not per channel`; }
      if (o.exclude?.includes(name)) s.blocked = `${node.describe()} is excluded`;
      const rank = shapes.get(out)?.dims?.length;
      if (op !== 'Conv' && rank === undefined) s.blocked = `${node.describe()} output rank unknown`;
      valueSpace.set(out, { space: id, axis: op === 'Conv' ? 1 : (rank ?? 2) - 1, block: 1 });
    }
  }
  for (const o2 of g.outputs) block(o2.name, `reaches the graph output '${o2.name}'`);
  return { roots: spaces.filter((s) => s.parent === s.id && s.producers.length) };
}

/**
 * Prunes the groups of a plan one by one, in order, each with the calibration statistics
 * of its consumers when given; nothing reaches the graph before `finish`, so statistics can
 * still be gathered from the unchanged model in between.
 */
export class ChannelPruner {
  private readonly reports: GroupReport[] = [];
  private readonly replaced = new Map<string, Tensor>();
  private readonly depthwiseGroups = new Map<Node, number>();
  private next = 0;
  constructor(private readonly g: Graph, private readonly plan: ChannelPlan, private readonly o: ChannelOptions) {}

  /** Layers whose input statistics each group needs, in the order groups are pruned. */
  consumerOrder(): Node[] {
    return channelConsumers(this.plan);
  }

  /** Prunes the following groups whose consumers all have statistics in `stats`, dropping those statistics. */
  pruneReady(stats: Map<string, LayerStats>, reconstruct: boolean): void {
    while (this.next < this.plan.roots.length) {
      const s = this.plan.roots[this.next]!;
      const names = s.blocked ? [] : s.consumers.map((c) => layerName(c.node));
      if (!names.every((n) => stats.has(n))) return;
      this.pruneSpace(s, { stats, reconstruct });
      for (const n of names) stats.delete(n);
      this.next++;
    }
  }

  /** Prunes the rest, without data, writes every changed tensor, and reports each group. */
  finish(): GroupReport[] {
    while (this.next < this.plan.roots.length) this.pruneSpace(this.plan.roots[this.next++]!);
    for (const t of this.replaced.values()) replaceInitializer(this.g, t);
    for (const [n, groups] of this.depthwiseGroups) n.setAttr({ name: 'group', type: 2, i: groups });
    // Shapes of pruned values changed: stale value_info would contradict them.
    if (this.replaced.size) dropValueInfoWhere(this.g, () => true);
    return this.reports;
  }

  private readonly current = (name: string): Tensor => this.replaced.get(name) ?? this.g.findInitializer(name)!;

  private pruneSpace(s: Space, data?: ChannelData): void {
    const { g, o, replaced, current } = this;
    const producers = s.producers.map((p) => p.node.name || p.node.outputs[0]!);
    if (s.blocked) { this.reports.push({ producers, channels: s.size, kept: s.size, skipped: s.blocked }); return; }
    const keepCount = keptChannels(s.size, o.ratio);
    const consumers = data ? s.consumers.map((c) => consumerView(g, c, current, data)).filter((c) => c !== undefined) : [];
    let keep: number[];
    let errors: LayerError[] | undefined;
    if (consumers.length && data!.reconstruct) ({ keep, errors } = removeAndRefit(consumers, s.size, keepCount, replaced, current));
    else {
      const importance = consumers.length ? outputEffect(consumers, s.size) : weightNorms(s, current, o);
      keep = Array.from({ length: s.size }, (_, c) => c).sort((a, b) => importance[b]! - importance[a]! || a - b).slice(0, keepCount).sort((a, b) => a - b);
      if (consumers.length) errors = maskErrors(consumers, keep);
    }
    const touched = new Set<string>();
    for (const sl of [...s.producers.map((p) => ({ tensor: p.weight, axis: p.axis, block: 1 })), ...s.slices]) {
      const key = `${sl.tensor}|${sl.axis}|${sl.block}`;
      if (touched.has(key)) continue;
      touched.add(key);
      replaced.set(sl.tensor, sliceAxis(current(sl.tensor), sl.axis, keep, sl.block));
    }
    for (const n of s.depthwise) this.depthwiseGroups.set(n, keep.length);
    for (const fix of s.shapeFixes) {
      const t = current(fix.tensor);
      const values = t.toNumbers();
      values[fix.index] = keep.length * fix.block;
      replaced.set(fix.tensor, Tensor.fromTyped(t.name, DataType.INT64, t.dims, BigInt64Array.from(values.map(BigInt))));
    }
    this.reports.push({ producers, channels: s.size, kept: keepCount, errors });
  }
}

/** Data-free ranking: the norm of each channel's producer weights. */
function weightNorms(s: Space, current: (name: string) => Tensor, o: ChannelOptions): Float64Array {
  const importance = new Float64Array(s.size);
  for (const p of s.producers) {
    const w = current(p.weight);
    const values = w.toFloat32();
    const per = w.elementCount / w.dims[p.axis]!;
    for (let c = 0; c < s.size; c++) {
      let sum = 0;
      for (let k = 0; k < per; k++) {
        const v = p.axis === 0 ? values[c * per + k]! : values[k * s.size + c]!;
        sum += o.norm === 'l1' ? Math.abs(v) : v * v;
      }
      importance[c]! += o.norm === 'l1' ? sum : Math.sqrt(sum);
    }
  }
  return importance;
}

/**
 * How many of `size` channels to keep: never fewer than the ratio asks, so a small group is
 * not cut deeper than the rest. CPU conv kernels work on blocks of 8 channels (onnxruntime's
 * NCHWc layout), so a layer of 16 or more channels keeps a multiple of 8: an odd count saves
 * parameters but no time.
 */
export function keptChannels(size: number, ratio: number): number {
  // The epsilon keeps 32 * 0.75 = 24.000000000000004 from becoming 25.
  const exact = size * (1 - ratio) - 1e-9;
  if (size >= 16 && size % 8 === 0) return Math.min(size, Math.max(8, Math.ceil(exact / 8) * 8));
  return Math.max(1, Math.ceil(exact));
}

/** Keeps blocks `keep` (each `block` wide) along `axis`. */
export function sliceAxis(t: Tensor, axis: number, keep: number[], block: number): Tensor {
  const src = t.toFloat32();
  const dims = t.dims;
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const newAxis = keep.length * block;
  const out = new Float32Array(outer * newAxis * inner);
  for (let o = 0; o < outer; o++) {
    keep.forEach((c, j) => {
      for (let b = 0; b < block; b++) {
        const from = ((o * dims[axis]! + c * block + b) * inner);
        const to = ((o * newAxis + j * block + b) * inner);
        out.set(src.subarray(from, from + inner), to);
      }
    });
  }
  const newDims = [...dims];
  newDims[axis] = newAxis;
  return Tensor.fromFloat32As(t.name, t.dataType, newDims, out);
}
