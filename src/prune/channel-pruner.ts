// Pruning the groups a channel plan found (channels.ts): which channels each keeps (weight
// norms, or with data their effect on the next layers, then re-fitted: channel-refit.ts),
// and every tensor cut to match, a Concat's parts at their current offsets.
import { dropValueInfoWhere, replaceInitializer } from '../ir/mutate.js';
import type { Graph, Node } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { Tensor } from '../ir/tensor.js';
import { consumerView, maskErrors, outputEffect, removeAndRefit, type ChannelData, type ConsumerPlace } from './channel-refit.js';
import { layerName, type LayerStats } from '../calibrate/index.js';
import type { LayerError } from './data-aware.js';
import { channelConsumers, type ChannelOptions, type ChannelPlan, type GroupReport, type Segment, type Slice, type Space } from './channels.js';

/**
 * Prunes the groups of a plan one by one, in order, each with the calibration statistics
 * of its consumers when given; nothing reaches the graph before `finish`, so statistics can
 * still be gathered from the unchanged model in between.
 */
export class ChannelPruner {
  private readonly reports: GroupReport[] = [];
  private readonly replaced = new Map<string, Tensor>();
  private readonly depthwiseGroups = new Map<Node, number>();
  /** The channels each pruned group kept: where the parts after it in a Concat now start. */
  private readonly keptOf = new Map<Space, number[]>();
  /** Groups still to prune that read each consumer's statistics (a Concat's consumer serves each part). */
  private readonly readers = new Map<string, number>();
  private next = 0;
  constructor(private readonly g: Graph, private readonly plan: ChannelPlan, private readonly o: ChannelOptions) {
    for (const s of plan.roots) if (!s.blocked) for (const n of new Set(s.consumers.map((c) => layerName(c.node)))) this.readers.set(n, (this.readers.get(n) ?? 0) + 1);
  }

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
      for (const n of new Set(names)) {
        const left = this.readers.get(n)! - 1;
        this.readers.set(n, left);
        if (left === 0) stats.delete(n);
      }
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

  /** A Concat part's channels as they are now: the kept ones once its group is pruned. */
  private channelsNow(p: Segment): number[] {
    const root = p.space === undefined ? undefined : this.plan.rootOf(p.space);
    return root ? this.keptOf.get(root) ?? Array.from({ length: root.size }, (_, c) => c) : Array.from({ length: p.size }, (_, c) => c);
  }

  /** Where part `index` sits in its Concat consumer's input now, and what each current column was. */
  private place(part: { segments: Segment[]; index: number }, block: number): ConsumerPlace {
    const columns: number[] = [];
    let offset = 0, first = 0;
    part.segments.forEach((p, k) => {
      if (k === part.index) offset = columns.length;
      for (const c of this.channelsNow(p)) for (let t = 0; t < block; t++) columns.push((first + c) * block + t);
      first += p.space === undefined ? p.size : this.plan.rootOf(p.space).size;
    });
    return { channels: this.plan.rootOf(part.segments[part.index]!.space!).size, offset, columns, width: first * block };
  }

  private pruneSpace(s: Space, data?: ChannelData): void {
    const { g, o, replaced, current } = this;
    const producers = s.producers.map((p) => p.node.name || p.node.outputs[0]!);
    if (s.blocked) { this.reports.push({ producers, channels: s.size, kept: s.size, skipped: s.blocked }); return; }
    const keepCount = keptChannels(s.size, o.ratio);
    const consumers = data ? s.consumers.map((c) => consumerView(g, c, current, data, c.part ? this.place(c.part, c.block) : { channels: s.size, offset: 0 })).filter((c) => c !== undefined) : [];
    let keep: number[];
    let errors: LayerError[] | undefined;
    if (consumers.length && data!.reconstruct) ({ keep, errors } = removeAndRefit(consumers, s.size, keepCount, replaced, current));
    else {
      const importance = consumers.length ? outputEffect(consumers, s.size) : weightNorms(s, current, o);
      keep = Array.from({ length: s.size }, (_, c) => c).sort((a, b) => importance[b]! - importance[a]! || a - b).slice(0, keepCount).sort((a, b) => a - b);
      if (consumers.length) errors = maskErrors(consumers, keep);
    }
    const touched = new Set<string>();
    const sizeNow = (p: Segment) => this.channelsNow(p).length;
    for (const sl of [...s.producers.map((p): Slice => ({ tensor: p.weight, axis: p.axis, block: 1 })), ...s.slices]) {
      const offset = (sl.before ?? []).reduce((a, p) => a + sizeNow(p), 0);
      const key = `${sl.tensor}|${sl.axis}|${sl.block}|${offset}`;
      if (touched.has(key)) continue;
      touched.add(key);
      replaced.set(sl.tensor, sliceAxis(current(sl.tensor), sl.axis, keep, sl.block, offset, s.size));
    }
    this.keptOf.set(s, keep);
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

/**
 * Keeps blocks `keep` (each `block` wide) of the `channels` channels that start `offset`
 * entries into `axis` (a part of a Concat; by default the whole axis), and everything else.
 */
export function sliceAxis(t: Tensor, axis: number, keep: number[], block: number, offset = 0, channels?: number): Tensor {
  const src = t.toFloat32();
  const dims = t.dims;
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const end = offset + (channels ?? dims[axis]! / block) * block;
  // The entries of `axis` that stay, in order: those around the part, and the part's kept blocks.
  const rows = [...Array.from({ length: offset }, (_, i) => i), ...keep.flatMap((c) => Array.from({ length: block }, (_, b) => offset + c * block + b)), ...Array.from({ length: dims[axis]! - end }, (_, i) => end + i)];
  const out = new Float32Array(outer * rows.length * inner);
  for (let o = 0; o < outer; o++) {
    rows.forEach((r, j) => {
      const from = (o * dims[axis]! + r) * inner;
      out.set(src.subarray(from, from + inner), (o * rows.length + j) * inner);
    });
  }
  const newDims = [...dims];
  newDims[axis] = rows.length;
  return Tensor.fromFloat32As(t.name, t.dataType, newDims, out);
}

