// LSTM, GRU and RNN weights in the int8 modes (option `recurrent`). Standard ONNX has no
// integer recurrent op, so by default ('float') these layers keep float weights: often a third
// or more of a CRNN text recognizer's bytes (ddddocr's: 16 of 51.6 MiB, so its int8 file was
// only 2.05x smaller). 'int8-weights' stores W and R in int8, one scale per gate row, behind
// DequantizeLinear: standard ONNX, but each run dequantizes them and the layer gets slower.
// 'ort-lstm' turns an LSTM into onnxruntime's com.microsoft.DynamicQuantizeLSTM, which runs
// its matrix products in integer: onnxruntime only (GRU, RNN and batch-first LSTMs have no
// such op and get 'int8-weights').
// Measured on ddddocr's recognizer (bidirectional LSTM, 512 units; 64 x 427 text lines),
// int8-static, onnxruntime-node, one thread: float 35.4 ms; float LSTM weights 17.0 ms and
// 25.1 MiB; 'int8-weights' 18.7 ms and 13.1 MiB; 'ort-lstm' 11.4 ms and 13.1 MiB, the same
// characters within a point. In onnxruntime-web both small files ran 1.25x slower than the
// float-LSTM one.
// Matches: LSTM/GRU/RNN whose W and R are float constants (in any graph, captured weights
// too) or computed from constants (PyTorch's gate reordering: Slice, Concat, Unsqueeze), and
// read by recurrent layers only. Writes: int8 W/R (+ scales) and DequantizeLinear -> Reshape,
// or DynamicQuantizeLSTM. A weight several layers of one graph read is quantized once.
import { Node, attr, type Graph, type Model } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { NameAllocator, addInitializer, replaceNode } from '../ir/mutate.js';
import { inferShapes } from '../ir/shapes.js';
import { Tensor } from '../ir/tensor.js';
import { constantOutputs, constantValues } from '../ir/constant-values.js';
import { OnnxpressError } from '../errors.js';
import type { LeftInFloat, QuantizeOptions } from './options.js';
import { quantizeWeights } from './quant-math.js';
import { quantizeEveryGraph } from './subgraphs.js';

export const RECURRENT_OPS = ['LSTM', 'GRU', 'RNN'];
export const RECURRENT_CHOICES = ['float', 'int8-weights', 'ort-lstm'] as const;
export type RecurrentWeights = (typeof RECURRENT_CHOICES)[number];

const FLOAT_REASON = "recurrent weights stay float by default: standard ONNX has no integer recurrent op (recurrent 'int8-weights', CLI --recurrent int8-weights, stores them in int8 behind DequantizeLinear: smaller, but each run dequantizes them; 'ort-lstm' uses onnxruntime's DynamicQuantizeLSTM)";

interface Layer { graph: Graph; node: Node; name: string; /** Why its weights cannot be quantized. */ problem?: string }

/** Every reader of each value name, over all graphs. */
function readersByName(model: Model): Map<string, Node[]> {
  const readers = new Map<string, Node[]>();
  for (const g of model.graphs()) for (const n of g.nodes) for (const i of n.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  return readers;
}

/** Whether a layer takes the DequantizeLinear path (not DynamicQuantizeLSTM) under `how`. */
const dequantizes = (how: RecurrentWeights, node: Node) => how === 'int8-weights' || (how === 'ort-lstm' && (node.opType !== 'LSTM' || node.getInt('layout', 0) !== 0));

const isRecurrent = (n: Node) => n.isOnnx() && RECURRENT_OPS.includes(n.opType);

/** Every recurrent layer of the model, each with why its W and R cannot be quantized (if so), and every value's readers. Runs nothing. */
function recurrentLayers(model: Model): { layers: Layer[]; readers: Map<string, Node[]> } {
  const readers = readersByName(model);
  const outputs = new Set<string>();
  for (const g of model.graphs()) for (const o of g.outputNames()) outputs.add(o);
  const layers: Layer[] = [];
  for (const g of model.graphs()) {
    const nodes = g.nodes.filter(isRecurrent);
    if (!nodes.length) continue;
    const shapes = inferShapes(g);
    const computed = constantOutputs(g, shapes);
    for (const node of nodes) {
      const problemOf = (name: string): string | undefined => {
        const t = g.findInitializer(name);
        if (!t && !computed.has(name)) return 'W and R are not constants of this graph (computed at run time, or outside this graph)';
        const type = t ? t.dataType : shapes.get(name)?.elemType;
        const rank = t ? t.dims.length : shapes.get(name)?.dims?.length;
        if (type !== DataType.FLOAT) return 'W and R are not float32';
        if (rank !== 3) return 'the shapes of W and R are not known';
        if (outputs.has(name) || (readers.get(name) ?? []).some((r) => !isRecurrent(r))) return 'W or R is also read by another op: an int8 copy would add to the float one';
        return undefined;
      };
      const problem = problemOf(node.inputs[1] ?? '') ?? problemOf(node.inputs[2] ?? '');
      layers.push({ graph: g, node, name: node.name || node.outputs[0] || '?', problem });
    }
  }
  return { layers, readers };
}

const excluded = (l: Layer, o: Pick<QuantizeOptions, 'excludeNodes' | 'excludeOpTypes'>) => !!(o.excludeOpTypes?.includes(l.node.opType) || o.excludeNodes?.includes(l.name));

/** Whether some LSTM/GRU/RNN has float W and R that 'int8-weights' would quantize. */
export function hasRecurrentWeights(model: Model): boolean {
  return recurrentLayers(model).layers.some((l) => !l.problem);
}

/** Whether some layer that `how` would quantize (not excluded) takes the DequantizeLinear path, whose per-row scales need opset 13. */
export function recurrentNeedsAxis(model: Model, how: RecurrentWeights, o: Pick<QuantizeOptions, 'excludeNodes' | 'excludeOpTypes'>): boolean {
  return recurrentLayers(model).layers.some((l) => !l.problem && !excluded(l, o) && dequantizes(how, l.node));
}

type QuantizeOpts = Pick<QuantizeOptions, 'recurrent' | 'excludeNodes' | 'excludeOpTypes' | 'perChannel' | 'reduceRange'>;

/** Quantizes the weights of every recurrent layer as `o.recurrent` says; returns counts by what each became. */
export async function quantizeRecurrent(model: Model, o: QuantizeOpts, left: LeftInFloat[]): Promise<Record<string, number>> {
  const how = o.recurrent ?? 'float';
  const counts: Record<string, number> = {};
  const todo = new Map<Graph, Layer[]>();
  const { layers: all, readers } = recurrentLayers(model);
  for (const l of all) {
    const problem = how === 'float' ? FLOAT_REASON : excluded(l, o) ? 'excluded' : l.problem;
    if (problem) left.push({ node: l.name, opType: l.node.opType, reason: problem });
    else todo.set(l.graph, [...(todo.get(l.graph) ?? []), l]);
  }
  // A weight also read by a layer that stays float would be stored twice: that layer's
  // readers stay float too, until every reader of each quantized weight is quantized.
  for (let changed = true; changed;) {
    changed = false;
    const chosen = new Set([...todo.values()].flat().map((l) => l.node));
    for (const [g, layers] of todo) {
      const keep = layers.filter((l) => l.node.inputs.slice(1, 3).every((w) => (readers.get(w) ?? []).every((r) => chosen.has(r))));
      for (const l of layers.filter((x) => !keep.includes(x))) left.push({ node: l.name, opType: l.node.opType, reason: 'W or R is also read by a layer that stays float: an int8 copy would add to the float one' });
      if (keep.length !== layers.length) { changed = true; if (keep.length) todo.set(g, keep); else todo.delete(g); }
    }
  }
  if (!todo.size) return counts;
  // Weights an exporter computes from constants are computed now (the nodes stay until unread).
  const computed = new Map<Graph, Map<string, Tensor>>();
  for (const [g, layers] of todo) {
    const names = layers.flatMap((l) => l.node.inputs.slice(1, 3)).filter((i) => !g.findInitializer(i));
    try {
      computed.set(g, names.length ? await constantValues(model, g, names) : new Map());
    } catch (err) {
      if (!(err instanceof OnnxpressError)) throw err;
      for (const l of layers) left.push({ node: l.name, opType: l.node.opType, reason: `onnxruntime could not compute W and R: ${err.message}` });
      todo.delete(g);
    }
  }
  // One scale per gate row: DequantizeLinear needs its axis (opset 13; the caller raises it
  // where it can), DynamicQuantizeLSTM takes them at any opset.
  const perRow = o.perChannel !== false && (model.opset('') ?? 1) >= 13;
  const perRowOrt = o.perChannel !== false;
  let contrib = false;
  quantizeEveryGraph(model, (g) => {
    const layers = todo.get(g);
    if (!layers) return;
    const names = new NameAllocator(g);
    const done = new Map<string, string[]>();
    // Keyed by layout too: DynamicQuantizeLSTM's transposed copy is not DequantizeLinear's.
    const weight = (name: string, layout: 'ort' | 'dq', make: (t: Tensor) => string[]): string[] => {
      let made = done.get(`${layout}:${name}`);
      if (!made) done.set(`${layout}:${name}`, made = make(g.findInitializer(name) ?? computed.get(g)!.get(name)!));
      return made;
    };
    for (const { node } of layers) {
      if (!dequantizes(how, node)) {
        const [w, r] = [1, 2].map((i) => weight(node.inputs[i]!, 'ort', (t) => ortWeight(g, names, t, perRowOrt, o.reduceRange)));
        replaceNode(g, node, [dynamicQuantizeLstm(node, names, w!, r!)]);
        contrib = true;
        counts['LSTM (DynamicQuantizeLSTM)'] = (counts['LSTM (DynamicQuantizeLSTM)'] ?? 0) + 1;
        continue;
      }
      const added: Node[] = [];
      for (const i of [1, 2]) node.inputs[i] = weight(node.inputs[i]!, 'dq', (t) => [dequantized(g, names, t, perRow, added)])[0]!;
      replaceNode(g, node, [...added, node]);
      counts[`${node.opType} (weights only)`] = (counts[`${node.opType} (weights only)`] ?? 0) + 1;
    }
  });
  if (contrib && !model.opsetImport.some((x) => x.domain === 'com.microsoft')) model.opsetImport.push({ domain: 'com.microsoft', version: 1 });
  return counts;
}

/**
 * W or R ([directions, gates x hidden, K]) as symmetric int8 with one scale per row (the rows
 * of all directions, flattened), per direction, or per tensor; and names for its initializers.
 */
function int8Weight(names: NameAllocator, t: Tensor, scales: 'row' | 'direction' | 'tensor', reduceRange?: boolean): { q: ReturnType<typeof quantizeWeights>; names: [string, string, string] } {
  const [dirs, rows, k] = t.dims as [number, number, number];
  const dims = scales === 'row' ? [dirs * rows, k] : scales === 'direction' ? [dirs, rows * k] : t.dims;
  const q = quantizeWeights(t.toFloat32(), dims, { type: 'int8', symmetric: true, reduceRange }, scales === 'tensor' ? undefined : 0);
  return { q, names: [names.next(`${t.name}_quantized`), names.next(`${t.name}_scale`), names.next(`${t.name}_zero_point`)] };
}

/** W or R in int8 behind DequantizeLinear (and a Reshape back, per row); the name to read. */
function dequantized(g: Graph, names: NameAllocator, t: Tensor, perRow: boolean, added: Node[]): string {
  const [dirs, rows, k] = t.dims as [number, number, number];
  const { q, names: [wq, ws, wz] } = int8Weight(names, t, perRow ? 'row' : 'tensor');
  const out = names.next(`${t.name}_dequantized`);
  // Per tensor (before opset 13, or asked for): one scale for the whole weight, no reshape.
  const scaleDims = perRow ? [dirs * rows] : [];
  addInitializer(g, Tensor.fromTyped(wq, DataType.INT8, perRow ? [dirs * rows, k] : t.dims, q.values));
  addInitializer(g, Tensor.fromFloat32(ws, scaleDims, q.scales));
  addInitializer(g, Tensor.fromTyped(wz, DataType.INT8, scaleDims, q.zeroPoints));
  const dq = perRow ? names.next(`${out}_rows`) : out;
  added.push(new Node({ opType: 'DequantizeLinear', inputs: [wq, ws, wz], outputs: [dq], name: names.next(`${t.name}_DequantizeLinear`), attributes: perRow ? [attr.int('axis', 0)] : [] }));
  if (perRow) {
    const shape = names.next(`${t.name}_shape`);
    addInitializer(g, Tensor.fromTyped(shape, DataType.INT64, [3], BigInt64Array.from(t.dims.map(BigInt))));
    added.push(new Node({ opType: 'Reshape', inputs: [dq, shape], outputs: [out], name: names.next(`${t.name}_Reshape`) }));
  }
  return out;
}

/**
 * W or R for DynamicQuantizeLSTM: [directions, K, 4H] (transposed from LSTM's) int8, scales and
 * zero points [directions, 4H] per row or [directions] per direction.
 */
function ortWeight(g: Graph, names: NameAllocator, t: Tensor, perRow: boolean, reduceRange?: boolean): string[] {
  const [dirs, rows, k] = t.dims as [number, number, number];
  const { q, names: [wq, ws, wz] } = int8Weight(names, t, perRow ? 'row' : 'direction', reduceRange);
  const transposed = new Int8Array(q.values.length);
  for (let d = 0; d < dirs; d++) {
    for (let row = 0; row < rows; row++) for (let c = 0; c < k; c++) transposed[d * rows * k + c * rows + row] = q.values[(d * rows + row) * k + c]!;
  }
  const scaleDims = perRow ? [dirs, rows] : [dirs];
  addInitializer(g, Tensor.fromTyped(wq, DataType.INT8, [dirs, k, rows], transposed));
  addInitializer(g, Tensor.fromFloat32(ws, scaleDims, q.scales));
  addInitializer(g, Tensor.fromTyped(wz, DataType.INT8, scaleDims, q.zeroPoints));
  return [wq, ws, wz];
}

/** The LSTM as DynamicQuantizeLSTM: its 8 inputs with W and R quantized, then their scales and zero points. */
function dynamicQuantizeLstm(node: Node, names: NameAllocator, w: string[], r: string[]): Node {
  const inputs = [...node.inputs, ...Array<string>(8).fill('')].slice(0, 8);
  inputs[1] = w[0]!;
  inputs[2] = r[0]!;
  return new Node({
    opType: 'DynamicQuantizeLSTM', domain: 'com.microsoft', inputs: [...inputs, w[1]!, w[2]!, r[1]!, r[2]!], outputs: [...node.outputs],
    name: node.name || names.next('DynamicQuantizeLSTM'), attributes: node.attributes.filter((a) => a.name !== 'layout'),
  });
}
