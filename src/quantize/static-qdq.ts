// int8 static quantization in QDQ form: QuantizeLinear/DequantizeLinear pairs around the
// activations of quantizable ops (ranges from calibration), int8 weights behind a
// DequantizeLinear (per channel where the opset allows), int32 biases. The graph stays
// standard ONNX; onnxruntime fuses the pairs into integer kernels when it loads it.
import { Node, attr, type Graph, type Model } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { NameAllocator, addInitializer, insertNodes, setInput } from '../ir/mutate.js';
import { inferShapes } from '../ir/shapes.js';
import { Tensor } from '../ir/tensor.js';
import { badOption } from '../errors.js';
import { calibrate, type Range } from './calibrate.js';
import type { LeftInFloat, QuantizeOptions, WeightOverride } from './options.js';
import { qParams, quantizeBias, quantizeWeights, type QuantOptions } from './quant-math.js';

/** Ops quantized in QDQ form, with the input positions that carry activations. */
export const STATIC_OPS: Record<string, number[] | 'all'> = {
  Conv: [0], ConvTranspose: [0], MatMul: [0, 1], Gemm: [0, 1], Add: 'all', Mul: 'all', Relu: [0], Clip: [0],
  LeakyRelu: [0], Sigmoid: [0], MaxPool: [0], AveragePool: [0], GlobalAveragePool: [0], Concat: 'all',
  Reshape: [0], Transpose: [0], Flatten: [0], Squeeze: [0], Unsqueeze: [0], Softmax: [0], Resize: [0],
};

/** Where each weighted op keeps its output channels in the weight tensor. */
function weightAxis(node: Node, rank: number): number | undefined {
  if (node.opType === 'Conv') return 0;
  if (node.opType === 'ConvTranspose') return node.getInt('group', 1) === 1 ? 1 : undefined;
  if (node.opType === 'Gemm') return node.getInt('transB', 0) ? 0 : 1;
  if (node.opType === 'MatMul') return rank === 2 ? 1 : undefined;
  return undefined;
}

export async function quantizeStatic(model: Model, o: QuantizeOptions, left: LeftInFloat[], perChannel: boolean): Promise<Record<string, number>> {
  const graph = model.graph;
  if (!o.calibration?.length) throw badOption(['calibration'], 'int8-static needs calibration samples to measure activation ranges on (calibration)');
  const shapes = inferShapes(graph);
  const isFloat = (name: string) => shapes.get(name)?.elemType === DataType.FLOAT;
  const chosen = chooseNodes(model, o, left);
  // Activation tensors: activation inputs and outputs of the chosen nodes, when float.
  const activations = new Set<string>();
  for (const node of chosen) {
    const positions = STATIC_OPS[node.opType]!;
    node.inputs.forEach((name, i) => {
      if (!name || graph.findInitializer(name) || (positions !== 'all' && !positions.includes(i))) return;
      if (isFloat(name)) activations.add(name);
    });
    if (node.outputs[0] && isFloat(node.outputs[0])) activations.add(node.outputs[0]);
  }
  const ranges = await calibrate(model, [...activations], o.calibration, { method: o.method ?? 'minmax', percentile: o.percentile });
  const actOptions: QuantOptions = { type: o.activationType ?? 'uint8', symmetric: o.symmetricActivations ?? false, reduceRange: false };
  const weightOptions: QuantOptions = { type: o.weightType ?? 'int8', symmetric: o.symmetricWeights ?? true, reduceRange: o.reduceRange };
  const names = new NameAllocator(graph);
  const params = new Map<string, { scale: number; zeroPoint: number; dq: string }>();
  const newNodes: Node[] = [];
  for (const t of activations) {
    const r: Range | undefined = ranges.get(t);
    if (!r || !Number.isFinite(r.min) || !Number.isFinite(r.max)) continue;
    const p = qParams(r.min, r.max, actOptions);
    const scale = scalarFloat(graph, names.next(`${t}_scale`), p.scale);
    const zp = scalarInt(graph, names.next(`${t}_zero_point`), p.zeroPoint, actOptions.type);
    const q = names.next(`${t}_quantized`);
    const dq = names.next(`${t}_dequantized`);
    newNodes.push(nodeOf('QuantizeLinear', [t, scale, zp], [q], names.next(`${t}_QuantizeLinear`)));
    newNodes.push(nodeOf('DequantizeLinear', [q, scale, zp], [dq], names.next(`${t}_DequantizeLinear`)));
    params.set(t, { scale: Math.fround(p.scale), zeroPoint: p.zeroPoint, dq });
  }
  const weightCache = new Map<string, { dq: string; scales: Float32Array }>();
  const counts: Record<string, number> = {};
  for (const node of chosen) {
    const positions = STATIC_OPS[node.opType]!;
    let touched = false;
    node.inputs.forEach((name, i) => {
      const p = params.get(name);
      if (p && (positions === 'all' || positions.includes(i))) { setInput(node, i, p.dq); touched = true; }
    });
    const w = graph.findInitializer(node.inputs[1] ?? '');
    const axis = w ? weightAxis(node, w.dims.length) : undefined;
    if (w && w.dataType === DataType.FLOAT && (axis !== undefined || node.opType === 'MatMul') && ['Conv', 'ConvTranspose', 'MatMul', 'Gemm'].includes(node.opType)) {
      const key = `${node.inputs[1]}|${perChannel ? axis : 'tensor'}`;
      let q = weightCache.get(key);
      if (!q) {
        q = addWeight(graph, names, node.inputs[1]!, w, weightOptions, perChannel ? axis : undefined, newNodes, o.weightOverrides?.get(node.inputs[1]!));
        weightCache.set(key, q);
      }
      setInput(node, 1, q.dq);
      touched = true;
      const xParams = [...params.values()].find((p) => p.dq === node.inputs[0]);
      const bias = graph.findInitializer(node.inputs[2] ?? '');
      if (bias && xParams && bias.dataType === DataType.FLOAT && bias.dims.length === 1 && (q.scales.length === 1 || q.scales.length === bias.dims[0])) {
        setInput(node, 2, addBias(graph, names, node.inputs[2]!, bias, xParams.scale, q.scales, newNodes));
      }
    }
    if (touched) counts[node.opType] = (counts[node.opType] ?? 0) + 1;
    else left.push({ node: node.name || node.outputs[0] || '?', opType: node.opType, reason: 'no float activation or weight to quantize' });
  }
  insertNodes(graph, newNodes);
  return counts;
}

function chooseNodes(model: Model, o: QuantizeOptions, left: LeftInFloat[]): Node[] {
  const chosen: Node[] = [];
  for (const g of model.graphs()) {
    for (const node of g.nodes) {
      const name = node.name || node.outputs[0] || '?';
      if (!node.isOnnx() || !(node.opType in STATIC_OPS)) continue;
      if (g !== model.graph) { left.push({ node: name, opType: node.opType, reason: 'inside a subgraph (If/Loop/Scan body)' }); continue; }
      if (o.opTypes && !o.opTypes.includes(node.opType)) continue;
      if (o.excludeOpTypes?.includes(node.opType)) { left.push({ node: name, opType: node.opType, reason: 'op type excluded' }); continue; }
      if (o.excludeNodes?.includes(name)) { left.push({ node: name, opType: node.opType, reason: 'node excluded' }); continue; }
      chosen.push(node);
    }
  }
  return chosen;
}

function nodeOf(opType: string, inputs: string[], outputs: string[], name: string, axis?: number): Node {
  const n = new Node({ opType, inputs, outputs, name });
  if (axis !== undefined) n.setAttr(attr.int('axis', axis));
  return n;
}

function scalarFloat(graph: Graph, name: string, value: number): string {
  addInitializer(graph, Tensor.fromFloat32(name, [], Float32Array.of(value)));
  return name;
}

function scalarInt(graph: Graph, name: string, value: number, type: 'int8' | 'uint8'): string {
  addInitializer(graph, type === 'int8' ? Tensor.fromTyped(name, DataType.INT8, [], Int8Array.of(value)) : Tensor.fromTyped(name, DataType.UINT8, [], Uint8Array.of(value)));
  return name;
}

function addWeight(graph: Graph, names: NameAllocator, base: string, w: Tensor, o: QuantOptions, axis: number | undefined, newNodes: Node[], override?: WeightOverride) {
  // A technique's rounding (GPTQ, bias correction) is used as given when it has this layout.
  const q = override && override.axis === axis && o.type === 'int8' ? override : quantizeWeights(w.toFloat32(), w.dims, o, axis);
  const qName = names.next(`${base}_quantized`);
  const sName = names.next(`${base}_scale`);
  const zName = names.next(`${base}_zero_point`);
  const dq = names.next(`${base}_dequantized`);
  const perChannel = axis !== undefined;
  addInitializer(graph, Tensor.fromTyped(qName, o.type === 'int8' ? DataType.INT8 : DataType.UINT8, w.dims, q.values));
  addInitializer(graph, Tensor.fromFloat32(sName, perChannel ? [q.scales.length] : [], q.scales));
  // A zero point of 0 is the default: symmetric int8 weights need none.
  const inputs = [qName, sName];
  if (q.zeroPoints.some((z) => z !== 0)) {
    addInitializer(graph, Tensor.fromTyped(zName, o.type === 'int8' ? DataType.INT8 : DataType.UINT8, perChannel ? [q.scales.length] : [], q.zeroPoints));
    inputs.push(zName);
  }
  newNodes.push(nodeOf('DequantizeLinear', inputs, [dq], names.next(`${base}_DequantizeLinear`), perChannel ? axis : undefined));
  return { dq, scales: q.scales };
}

function addBias(graph: Graph, names: NameAllocator, base: string, bias: Tensor, inputScale: number, weightScales: Float32Array, newNodes: Node[]): string {
  const b = quantizeBias(bias.toFloat32(), inputScale, weightScales);
  const qName = names.next(`${base}_quantized`);
  const sName = names.next(`${base}_scale`);
  const dq = names.next(`${base}_dequantized`);
  // Per-tensor weights give one bias scale: a scalar, which opsets before 13 require.
  const perChannel = weightScales.length > 1;
  addInitializer(graph, Tensor.fromTyped(qName, DataType.INT32, bias.dims, b.values));
  addInitializer(graph, Tensor.fromFloat32(sName, perChannel ? [b.scales.length] : [], perChannel ? b.scales : b.scales.subarray(0, 1)));
  newNodes.push(nodeOf('DequantizeLinear', [qName, sName], [dq], names.next(`${base}_DequantizeLinear`), perChannel ? 0 : undefined));
  return dq;
}
