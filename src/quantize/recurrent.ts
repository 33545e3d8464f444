// LSTM, GRU and RNN weights in the int8 modes (option `recurrent`). Standard ONNX has no
// integer recurrent op, so by default ('float') these layers keep float weights: often a third
// or more of a CRNN text recognizer's bytes (ddddocr's: 16 of 51.6 MB, so its int8 file was
// only 2.05x smaller). 'int8-weights' stores W and R in int8, one scale per gate row, behind
// DequantizeLinear: standard ONNX, but each run dequantizes them and the layer gets slower.
// 'ort-lstm' turns an LSTM into onnxruntime's com.microsoft.DynamicQuantizeLSTM, which runs
// its matrix products in integer: onnxruntime only (GRU and RNN have no such op and get
// 'int8-weights'). ddddocr's recognizer (bidirectional LSTM, 512 units, 64 steps; float
// 24.4 ms), int8-static, onnxruntime-node, one thread: float LSTM weights 12.0 ms and
// 25.1 MB, 'int8-weights' 14.3 ms and 13.1 MB, 'ort-lstm' 8.0 ms and 13.1 MB; in
// onnxruntime-web both small files ran 1.25x slower than the float-LSTM one.
// Matches: LSTM/GRU/RNN whose W and R are float constants (in any graph, captured weights
// too), or computed from constants (PyTorch's gate reordering: Slice, Concat, Unsqueeze). Writes: int8 W/R (+ scales) and DequantizeLinear -> Reshape, or DynamicQuantizeLSTM.
import { Node, attr, type Graph, type Model } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { NameAllocator, addInitializer, replaceNode } from '../ir/mutate.js';
import { Tensor } from '../ir/tensor.js';
import type { LeftInFloat, QuantizeOptions } from './options.js';
import { quantizeWeights } from './quant-math.js';
import { quantizeEveryGraph } from './subgraphs.js';
import { constantValues } from '../../passes/fold-constants.js';
import { OnnxpressError } from '../errors.js';

export const RECURRENT_OPS = ['LSTM', 'GRU', 'RNN'];
export type RecurrentWeights = 'float' | 'int8-weights' | 'ort-lstm';

const FLOAT_REASON = "recurrent weights stay float by default: standard ONNX has no integer recurrent op (recurrent 'int8-weights', CLI --recurrent int8-weights, stores them in int8 behind DequantizeLinear: smaller, but each run dequantizes them; 'ort-lstm' uses onnxruntime's DynamicQuantizeLSTM)";

/** Whether some LSTM/GRU/RNN in any graph reads float W and R that are constant initializers or computed from them. */
export function hasRecurrentWeights(model: Model): boolean {
  return [...model.graphs()].some((g) => {
    const producers = g.producers();
    const constant = (name: string): boolean => {
      if (g.findInitializer(name)) return true;
      const p = producers.get(name);
      return !!p && p.isOnnx() && WEIGHT_SHAPING.has(p.opType) && p.inputs.every((i) => !i || constant(i));
    };
    return g.nodes.some((n) => n.isOnnx() && RECURRENT_OPS.includes(n.opType) && constant(n.inputs[1] ?? '') && constant(n.inputs[2] ?? ''));
  });
}

/** Ops an exporter puts between a stored recurrent weight and the layer (PyTorch's gate reordering). */
const WEIGHT_SHAPING = new Set(['Slice', 'Concat', 'Unsqueeze', 'Squeeze', 'Reshape', 'Transpose', 'Identity', 'Gather', 'Split']);

/** W and R of a recurrent node: float constants of the graph (or its parents), or values computed from them. */
function constantWeights(g: Graph, node: Node, computed: Map<string, Tensor> | undefined): [Tensor, Tensor] | undefined {
  const get = (name: string) => g.findInitializer(name) ?? computed?.get(name);
  const w = get(node.inputs[1] ?? ''), r = get(node.inputs[2] ?? '');
  const ok = (t: Tensor | undefined): t is Tensor => !!t && t.dataType === DataType.FLOAT && t.dims.length === 3;
  return ok(w) && ok(r) ? [w, r] : undefined;
}

/** W and R that graphs compute from constants (by running those nodes), per graph. */
async function computedWeights(model: Model): Promise<Map<Graph, Map<string, Tensor>>> {
  const out = new Map<Graph, Map<string, Tensor>>();
  for (const g of model.graphs()) {
    const names = g.nodes.filter((n) => n.isOnnx() && RECURRENT_OPS.includes(n.opType)).flatMap((n) => n.inputs.slice(1, 3)).filter((i) => i && !g.findInitializer(i));
    if (!names.length) continue;
    try {
      out.set(g, await constantValues(model, g, names));
    } catch (err) {
      // onnxruntime could not run those nodes: the weights stay float, with the reason.
      if (!(err instanceof OnnxpressError)) throw err;
    }
  }
  return out;
}

/** Quantizes the weights of every recurrent layer as `o.recurrent` says; returns counts by what each became. */
export async function quantizeRecurrent(model: Model, o: Pick<QuantizeOptions, 'recurrent' | 'excludeNodes' | 'excludeOpTypes'>, left: LeftInFloat[]): Promise<Record<string, number>> {
  const how = o.recurrent ?? 'float';
  const counts: Record<string, number> = {};
  const computed = how === 'float' ? new Map<Graph, Map<string, Tensor>>() : await computedWeights(model);
  // One scale per gate row needs DequantizeLinear's axis (opset 13); older models get one per tensor.
  const perRow = (model.opset('') ?? 1) >= 13;
  let contrib = false;
  quantizeEveryGraph(model, (g) => {
    const names = new NameAllocator(g);
    for (const node of [...g.nodes]) {
      if (!node.isOnnx() || !RECURRENT_OPS.includes(node.opType)) continue;
      const name = node.name || node.outputs[0] || '?';
      if (how === 'float') { left.push({ node: name, opType: node.opType, reason: FLOAT_REASON }); continue; }
      if (o.excludeOpTypes?.includes(node.opType) || o.excludeNodes?.includes(name)) { left.push({ node: name, opType: node.opType, reason: 'excluded' }); continue; }
      const weights = constantWeights(g, node, computed.get(g));
      if (!weights) { left.push({ node: name, opType: node.opType, reason: 'W and R are computed in the graph, not stored as float constants' }); continue; }
      const [w, r] = weights;
      if (how === 'ort-lstm' && node.opType === 'LSTM' && !node.getInt('layout', 0)) {
        replaceNode(g, node, [dynamicQuantizeLstm(g, node, names, w, r)]);
        contrib = true;
        counts['LSTM (DynamicQuantizeLSTM)'] = (counts['LSTM (DynamicQuantizeLSTM)'] ?? 0) + 1;
        continue;
      }
      const added: Node[] = [];
      node.inputs[1] = dequantized(g, names, w, perRow, added);
      node.inputs[2] = dequantized(g, names, r, perRow, added);
      replaceNode(g, node, [...added, node]);
      counts[`${node.opType} (weights only)`] = (counts[`${node.opType} (weights only)`] ?? 0) + 1;
    }
  });
  if (contrib && !model.opsetImport.some((x) => x.domain === 'com.microsoft')) model.opsetImport.push({ domain: 'com.microsoft', version: 1 });
  return counts;
}

/** W or R ([directions, gates x hidden, K]) as int8 rows, dequantized and reshaped back; the name to read. */
function dequantized(g: Graph, names: NameAllocator, t: Tensor, perRow: boolean, added: Node[]): string {
  const [dirs, rows, k] = t.dims as [number, number, number];
  const flat = perRow ? [dirs * rows, k] : t.dims;
  const q = quantizeWeights(t.toFloat32(), flat, { type: 'int8', symmetric: true }, perRow ? 0 : undefined);
  const wq = names.next(`${t.name}_quantized`), ws = names.next(`${t.name}_scale`), wz = names.next(`${t.name}_zero_point`);
  addInitializer(g, Tensor.fromTyped(wq, DataType.INT8, flat, q.values));
  addInitializer(g, Tensor.fromFloat32(ws, perRow ? [dirs * rows] : [], q.scales));
  addInitializer(g, Tensor.fromTyped(wz, DataType.INT8, perRow ? [dirs * rows] : [], q.zeroPoints));
  const out = names.next(`${t.name}_dequantized`);
  added.push(new Node({ opType: 'DequantizeLinear', inputs: [wq, ws, wz], outputs: [perRow ? names.next(`${out}_rows`) : out], name: names.next(`${t.name}_DequantizeLinear`), attributes: perRow ? [attr.int('axis', 0)] : [] }));
  if (perRow) {
    const shape = names.next(`${t.name}_shape`);
    addInitializer(g, Tensor.fromTyped(shape, DataType.INT64, [3], BigInt64Array.from(t.dims.map(BigInt))));
    added.push(new Node({ opType: 'Reshape', inputs: [added.at(-1)!.outputs[0]!, shape], outputs: [out], name: names.next(`${t.name}_Reshape`) }));
  }
  return out;
}

/**
 * onnxruntime's DynamicQuantizeLSTM: W as [directions, K, 4H] and R as [directions, H, 4H]
 * (transposed from LSTM's), int8 with one scale per gate row, shape [directions, 4H].
 */
function dynamicQuantizeLstm(g: Graph, node: Node, names: NameAllocator, w: Tensor, r: Tensor): Node {
  const weight = (t: Tensor): [string, string, string] => {
    const [dirs, rows, k] = t.dims as [number, number, number];
    const q = quantizeWeights(t.toFloat32(), [dirs * rows, k], { type: 'int8', symmetric: true }, 0);
    const transposed = new Int8Array(q.values.length);
    for (let d = 0; d < dirs; d++) {
      for (let row = 0; row < rows; row++) for (let c = 0; c < k; c++) transposed[d * rows * k + c * rows + row] = q.values[(d * rows + row) * k + c]!;
    }
    const wq = names.next(`${t.name}_quantized`), ws = names.next(`${t.name}_scale`), wz = names.next(`${t.name}_zero_point`);
    addInitializer(g, Tensor.fromTyped(wq, DataType.INT8, [dirs, k, rows], transposed));
    addInitializer(g, Tensor.fromFloat32(ws, [dirs, rows], q.scales));
    addInitializer(g, Tensor.fromTyped(wz, DataType.INT8, [dirs, rows], q.zeroPoints));
    return [wq, ws, wz];
  };
  const [wq, ws, wz] = weight(w), [rq, rs, rz] = weight(r);
  const inputs = [...node.inputs, ...Array<string>(8).fill('')].slice(0, 8);
  inputs[1] = wq;
  inputs[2] = rq;
  return new Node({
    opType: 'DynamicQuantizeLSTM', domain: 'com.microsoft', inputs: [...inputs, ws, wz, rs, rz], outputs: [...node.outputs],
    name: node.name || names.next('DynamicQuantizeLSTM'), attributes: node.attributes.filter((a) => a.name !== 'layout'),
  });
}
