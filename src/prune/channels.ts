// Structured channel pruning: removes whole output channels (Conv) or hidden units
// (Gemm/MatMul) and shrinks every tensor that depends on them, so the model is really
// smaller and faster. Channels that must stay aligned form a group: outputs joined by
// Add/Mul (residuals), carried through depthwise convs, BatchNorm, activations and pooling.
// A Concat along the channels makes each input group one part of its output, cut at that
// part's offset; a Resize whose sizes come from the tensor's own shape at run time (PyTorch's
// F.interpolate(size=...)) carries channels through (resize-sizes.ts). A group is pruned as
// one, or skipped with the reason when anything in it is not understood (a graph output, a
// reshape that moves channels, a subgraph capture ...). channel-pruner.ts prunes the plan.
import type { Model, Node } from '../ir/graph.js';
import { isWeightFloat } from '../ir/dtype.js';
import { inferShapes } from '../ir/shapes.js';
import { sizesResizesOf, sizesShapeSource } from './resize-sizes.js';
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

/**
 * A use of a channel space: a tensor whose `axis` indexes the group's channels (in blocks of
 * `block`). After a Concat the group is one part of that axis: `before` lists the parts ahead
 * of it, whose current sizes give its offset.
 */
export interface Slice { tensor: string; axis: number; block: number; before?: Segment[] }

/** A part of a value along its channel axis: a group's channels (`space`), or a fixed count no group here prunes. */
export interface Segment { space?: number; size: number }
/** A value made by Concat along the channel axis: its parts in order. */
interface Joined { axis: number; segments: Segment[] }

export interface Space {
  id: number;
  size: number;
  parent: number;
  producers: { node: Node; weight: string; axis: number }[];
  slices: Slice[];
  /** int64 shape constants whose entry `index` counts channels in blocks of `block`. */
  shapeFixes: { tensor: string; index: number; block: number }[];
  /** Depthwise convs the channels run through: their group becomes the kept count. */
  depthwise: Node[];
  /**
   * Layers reducing over the channels (the "next layers"): channel c is their input columns
   * [c * block, (c + 1) * block), or, after a Concat, those of part `index` of `segments`.
   */
  consumers: { node: Node; block: number; part?: { segments: Segment[]; index: number } }[];
  blocked?: string;
}

const PASS_THROUGH = new Set(['Relu', 'LeakyRelu', 'Clip', 'Sigmoid', 'Tanh', 'HardSwish', 'HardSigmoid', 'Identity', 'Dropout', 'MaxPool', 'AveragePool',
  'GlobalAveragePool', 'GlobalMaxPool', 'Elu', 'Selu', 'Softplus', 'Mish', 'Gelu', 'Erf', 'Neg', 'Abs', 'Cast']);
const JOINS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum']);
const RESIZES = new Set(['Resize', 'Upsample']);

/** Channel groups of a model, found before anything changes (so calibration can look at their layers). */
export interface ChannelPlan {
  roots: Space[];
  /** The group a space id ended up in (spaces merge while the plan is made). */
  rootOf: (id: number) => Space;
}

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
  // Values made by Concat along the channel axis, and every such list of parts (checked at the end).
  const joined = new Map<string, Joined>();
  const allJoined: Joined[] = [];
  // Shapes read for Resize sizes, and the Resizes accepted because of one.
  const shapeReads: { input: string; resizes: Node[] }[] = [];
  const sizedByShape = new Set<Node>();
  let sizesOf: Node[] | undefined;
  const block = (name: string, reason: string) => {
    const spacesOf = [valueSpace.get(name)?.space, ...(joined.get(name)?.segments.map((p) => p.space) ?? [])];
    for (const id of spacesOf) if (id !== undefined) find(id).blocked ??= reason;
  };
  const constOf = (name: string | undefined) => (name ? g.findInitializer(name) : undefined);
  const isFloatConst = (name: string | undefined) => isWeightFloat(constOf(name)?.dataType ?? 0);

  for (const node of g.nodes) {
    const spaced = node.inputs.filter((i) => i && valueSpace.has(i));
    const out = node.outputs[0] ?? '';
    const name = node.name || out;
    if (node.subgraphs().length) {
      for (const c of node.subgraphs().flatMap((sg) => [...sg.capturedNames()])) block(c, `read inside the subgraph of ${node.describe()}`);
      for (const i of node.inputs) if (i) block(i, `read by ${node.describe()}`);
      continue;
    }
    const op = node.isOnnx() ? node.opType : `${node.domain}.${node.opType}`;
    if (op === 'Concat' && (spaced.length || node.inputs.some((i) => joined.has(i)))) {
      const rank = shapes.get(out)?.dims?.length;
      const axis = rank === undefined ? undefined : (node.getInt('axis', 0) + rank) % rank;
      const parts = axis === undefined ? undefined : concatParts(node.inputs, axis);
      if (!parts) { for (const i of node.inputs) block(i, `${node.describe()} joins channels in a way not followed`); continue; }
      const j = { axis: axis!, segments: parts };
      joined.set(out, j);
      allJoined.push(j);
      continue;
    }
    const joinedIn = node.inputs.filter((i) => joined.has(i));
    if (joinedIn.length) {
      if (!readJoined(node, op, joinedIn)) { for (const i of [...joinedIn, ...spaced]) block(i, `read by ${node.describe()}`); continue; }
      if (joined.has(out)) continue;
    }
    // 1. Consumers that reduce over the channels of their input.
    if ((op === 'Conv' || op === 'Gemm' || op === 'MatMul') && spaced.length && !joinedIn.length) {
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
      if (PASS_THROUGH.has(op) || (RESIZES.has(op) && spaced.length === 1 && spaced[0] === node.inputs[0] && resizeKeepsChannels(node, x))) {
        valueSpace.set(out, x);
      } else if (op === 'Shape' && spaced[0] === node.inputs[0] && (sizesOf = sizesResizesOf(g, node, x.axis))) {
        // Read at run time for Resize sizes: it follows whatever the channels become, as long
        // as those Resizes carry the same channels (checked once the plan is made).
        shapeReads.push({ input: node.inputs[0]!, resizes: sizesOf });
        continue;
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
          if (t[1] !== -1) {
            if (!onlyReader(node.inputs[1]!, node)) { block(spaced[0]!, `${node.describe()} target shape is shared with another node`); continue; }
            find(x.space).shapeFixes.push({ tensor: node.inputs[1]!, index: 1, block: width });
          }
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
  for (const r of shapeReads) if (!r.resizes.every((n) => sizedByShape.has(n))) block(r.input, 'its shape sizes a Resize of other channels');
  // A weight or parameter another node also reads (dedupe merges equal constants, such as
  // zero biases) cannot be cut for one group alone.
  const readers = g.consumers();
  for (const s of spaces) {
    const shared = [...s.producers.map((p) => p.weight), ...s.slices.map((sl) => sl.tensor)].find((t) => (readers.get(t)?.length ?? 0) > 1 || g.outputNames().has(t));
    if (shared) find(s.id).blocked ??= `its tensor '${shared}' is shared with another node`;
  }
  // One group twice in a Concat would need two cuts of the same tensor at once.
  for (const j of allJoined) {
    const roots = j.segments.filter((p) => p.space !== undefined).map((p) => find(p.space!));
    for (const r of roots) if (roots.indexOf(r) !== roots.lastIndexOf(r)) r.blocked ??= 'its channels meet twice in one Concat';
  }
  return { roots: spaces.filter((s) => s.parent === s.id && s.producers.length), rootOf: find };

  /** The parts of a Concat along `axis`, or undefined when one is not understood. */
  function concatParts(inputs: string[], axis: number): Segment[] | undefined {
    const parts: Segment[] = [];
    for (const i of inputs) {
      if (!i) continue;
      const j = joined.get(i);
      const v = valueSpace.get(i);
      if (j) { if (j.axis !== axis) return undefined; parts.push(...j.segments); }
      else if (v) { if (v.axis !== axis || v.block !== 1) return undefined; parts.push({ space: v.space, size: find(v.space).size }); }
      else {
        const size = shapes.get(i)?.dims?.[axis];
        if (typeof size !== 'number' || size <= 0) return undefined;
        parts.push({ size });
      }
    }
    return parts;
  }

  /**
   * A node reading a Concat's output: activations and BatchNorm carry the parts through; a
   * Conv, Gemm or MatMul reducing over them cuts each part's columns from its weights.
   * False when the node is anything else (the parts' groups are then blocked).
   */
  function readJoined(node: Node, op: string, joinedIn: string[]): boolean {
    const x = joined.get(node.inputs[0]!);
    if (!x || joinedIn.length !== 1 || node.inputs.slice(1).some((i) => valueSpace.has(i))) return false;
    const out = node.outputs[0]!;
    const cut = (tensor: string, axis: number) => x.segments.forEach((p, k) => { if (p.space !== undefined) find(p.space).slices.push({ tensor, axis, block: 1, before: x.segments.slice(0, k) }); });
    // The consumer is each part's next layer: its columns, at that part's offset, are the part's.
    const reads = (blockCols: number) => x.segments.forEach((p, k) => { if (p.space !== undefined) find(p.space).consumers.push({ node, block: blockCols, part: { segments: x.segments, index: k } }); });
    if (PASS_THROUGH.has(op)) { joined.set(out, x); return true; }
    if (op === 'BatchNormalization' && node.outputs.filter(Boolean).length === 1 && x.axis === 1) {
      if (!node.inputs.slice(1, 5).every((p) => isFloatConst(p))) return false;
      for (const p of node.inputs.slice(1, 5)) cut(p, 0);
      joined.set(out, x);
      return true;
    }
    const w = constOf(node.inputs[1]);
    if (!w || !isWeightFloat(w.dataType)) return false;
    if (op === 'Conv') {
      if (node.getInt('group', 1) !== 1 || x.axis !== 1) return false;
      cut(node.inputs[1]!, 1);
      reads(w.dims.slice(2).reduce((a, b) => a * b, 1));
      return true;
    }
    if (op === 'Gemm' || op === 'MatMul') {
      const rank = shapes.get(node.inputs[0]!)?.dims?.length;
      if (w.dims.length !== 2 || rank === undefined || x.axis !== rank - 1 || (op === 'Gemm' && node.getInt('transA', 0))) return false;
      cut(node.inputs[1]!, op === 'Gemm' && node.getInt('transB', 0) === 1 ? 1 : 0);
      reads(1);
      return true;
    }
    return false;
  }

  /** A Resize (or Upsample) that leaves the channel count alone: its sizes follow the input's, or its scale on the channel axis is 1. */
  function resizeKeepsChannels(node: Node, x: { space: number; axis: number; block: number }): boolean {
    // Resize-18 may list the axes its sizes or scales are for; one not listed keeps its size.
    const rank = shapes.get(node.inputs[0]!)?.dims?.length;
    const axes = node.getInts('axes')?.map((a) => (rank === undefined ? a : (a + rank) % rank));
    if (axes && !axes.includes(x.axis)) return rank !== undefined;
    const entry = axes ? axes.indexOf(x.axis) : x.axis;
    // Resize-10 is (X, scales); Resize-11 on (X, roi, scales, sizes); Upsample-7 has scales as an attribute.
    const sizes = node.opType === 'Resize' && node.inputs.length > 3 ? node.inputs[3] : undefined;
    if (sizes) {
      const c = constOf(sizes);
      if (c) {
        if (x.block !== 1 || !onlyReader(sizes, node)) return false;
        find(x.space).shapeFixes.push({ tensor: sizes, index: entry, block: 1 });
        return true;
      }
      const source = sizesShapeSource(g, sizes, x.axis);
      const v = source ? valueSpace.get(source) : undefined;
      const same = Boolean(v && find(v.space) === find(x.space) && v.axis === x.axis && v.block === x.block);
      if (same) sizedByShape.add(node);
      return same;
    }
    const attr = node.getFloats('scales');
    if (attr) return attr[entry] === 1;
    const scales = constOf(node.opType === 'Resize' && node.inputs.length > 2 ? node.inputs[2] : node.inputs[1]);
    return Boolean(scales && isWeightFloat(scales.dataType) && scales.toFloat32()[entry] === 1);
  }

  /** A shape constant fixed for one node must be that node's alone (dedupe may have merged equal ones). */
  function onlyReader(name: string, node: Node): boolean {
    const readers = g.consumers().get(name) ?? [];
    return readers.length === 1 && readers[0] === node && !g.outputNames().has(name);
  }
}
