// Which weights prune works on: constant float weights of Conv, ConvTranspose, Gemm and
// MatMul, in main-graph order, with the layout facts each method needs.
import type { Graph, Model, Node } from '../ir/graph.js';
import { dataTypeName, isWeightFloat } from '../ir/dtype.js';
import type { Tensor } from '../ir/tensor.js';

export interface PrunableLayer {
  node: Node;
  name: string;
  weightName: string;
  weight: Tensor;
  /** Number of output units and of reduction (fan-in) elements per output unit. */
  outputs: number;
  fanIn: number;
  /** Element index of (output o, reduction k). */
  index(o: number, k: number): number;
  /**
   * The reduction elements in the order N:M groups run along: for a Conv weight
   * [K, C, R, S], K x R x S x C (input channels at each kernel position, the layout sparse
   * kernels and tensor cores read); for Gemm/MatMul the reduction axis as stored.
   */
  nmOrder: Int32Array;
  /** N:M groups must not cross runs of this many elements of `nmOrder` (C for a Conv). */
  nmRun: number;
}

export function prunableLayers(model: Model): { layers: PrunableLayer[]; skipped: { name: string; reason: string }[] } {
  const g = model.graph;
  const layers: PrunableLayer[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const node of g.nodes) {
    if (!node.isOnnx() || !['Conv', 'Gemm', 'MatMul'].includes(node.opType)) continue;
    const name = node.name || node.outputs[0]!;
    const weightName = node.inputs[1] ?? '';
    // Before IR 4 weights are also listed as inputs; their initializer is still the weight.
    const w = g.initializers.get(weightName) ?? g.findInitializer(weightName);
    if (!w || !isWeightFloat(w.dataType)) { skipped.push({ name, reason: `weights are not a float initializer (${w ? dataTypeName(w.dataType) : 'computed'})` }); continue; }
    const layer = describe(node, name, weightName, w, g);
    if (layer) layers.push(layer);
    else skipped.push({ name, reason: `unsupported weight layout [${w.dims.join(', ')}]` });
  }
  return { layers, skipped };
}

/** The layer view of `node` with weight tensor `w` (which may be a pruned copy of the graph's). */
export function describe(node: Node, name: string, weightName: string, w: Tensor, _g: Graph): PrunableLayer | undefined {
  if (node.opType === 'Conv') {
    const out = w.dims[0]!;
    const fanIn = w.elementCount / out;
    const channels = w.dims[1]!;
    const positions = fanIn / channels;
    // Position p of channel c sits at k = c * positions + p in the [C, R, S] row.
    const nmOrder = new Int32Array(fanIn);
    for (let p = 0; p < positions; p++) for (let c = 0; c < channels; c++) nmOrder[p * channels + c] = c * positions + p;
    return { node, name, weightName, weight: w, outputs: out, fanIn, index: (o, k) => o * fanIn + k, nmOrder, nmRun: channels };
  }
  if (w.dims.length !== 2) return undefined;
  const transB = node.opType === 'Gemm' && node.getInt('transB', 0) === 1;
  const [rows, cols] = w.dims as [number, number];
  const fanIn = transB ? cols : rows;
  const nmOrder = Int32Array.from({ length: fanIn }, (_, k) => k);
  // W is [K, N] (or [N, K] with transB): output n reduces over k.
  return transB
    ? { node, name, weightName, weight: w, outputs: rows, fanIn, index: (o, k) => o * cols + k, nmOrder, nmRun: fanIn }
    : { node, name, weightName, weight: w, outputs: cols, fanIn, index: (o, k) => k * cols + o, nmOrder, nmRun: fanIn };
}

/** The layer's weights as `outputs` rows of `fanIn` reduction elements. */
export function weightRows(l: PrunableLayer): Float64Array {
  const w = l.weight.toFloat32();
  const rows = new Float64Array(l.outputs * l.fanIn);
  for (let o = 0; o < l.outputs; o++) for (let k = 0; k < l.fanIn; k++) rows[o * l.fanIn + k] = w[l.index(o, k)]!;
  return rows;
}

/** The inverse of weightRows, in the weight's own layout. */
export function rowsToWeight(l: PrunableLayer, rows: Float64Array): Float32Array {
  const w = new Float32Array(l.outputs * l.fanIn);
  for (let o = 0; o < l.outputs; o++) for (let k = 0; k < l.fanIn; k++) w[l.index(o, k)] = rows[o * l.fanIn + k]!;
  return w;
}

/**
 * The constant per-output bias added to the layer's result, when there is one to adjust:
 * Conv's and Gemm's third input (Gemm with alpha = beta = 1), or for MatMul the constant of
 * the one Add reading its output. Not when another node reads the same tensor.
 */
export function biasOf(g: Graph, node: Node, outputs: number): string | undefined {
  const usable = (name: string | undefined) => {
    const t = name ? g.findInitializer(name) : undefined;
    if (!t || !isWeightFloat(t.dataType) || t.elementCount !== outputs || t.dims[t.dims.length - 1] !== outputs) return undefined;
    return (g.consumers().get(name!) ?? []).length === 1 ? name : undefined;
  };
  if (node.opType === 'Conv') return usable(node.inputs[2]);
  if (node.opType === 'Gemm') return node.getFloat('alpha', 1) === 1 && node.getFloat('beta', 1) === 1 ? usable(node.inputs[2]) : undefined;
  const readers = g.consumers().get(node.outputs[0]!) ?? [];
  const add = readers.length === 1 && readers[0]!.opType === 'Add' && readers[0]!.isOnnx() ? readers[0]! : undefined;
  if (!add || g.outputNames().has(node.outputs[0]!)) return undefined;
  return usable(add.inputs.find((i) => i !== node.outputs[0]));
}
