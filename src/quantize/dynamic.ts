// int8 dynamic quantization: weights stored as int8, activations quantized at run time.
// MatMul/Gemm become DynamicQuantizeLinear + MatMulInteger, and Conv (only when asked:
// opTypes includes 'Conv') becomes DynamicQuantizeLinear + ConvInteger; the int32 result
// is scaled back to float by x_scale * w_scale (per output channel with perChannel, which
// Conv defaults to: one scale for a whole conv bank broke Silero VAD v5, whose speech
// decisions agreed with float on 73% of 16 kHz windows per tensor and 99.5% per channel).
// Standard ONNX ops only. Bodies (If branches, Loop and Scan bodies) are quantized in place
// like the main graph: nothing here needs calibration, and a weight a body captures from an
// enclosing graph gets its int8 copy in the body (the float one goes once nothing reads it).
import { Node, attr, type Graph, type Model } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { FEEDS_LOG, feedsLog } from './qdq-placement.js';
import { NameAllocator, addInitializer, replaceNode, topologicalSort } from '../ir/mutate.js';
import { inferShapes } from '../ir/shapes.js';
import { Tensor } from '../ir/tensor.js';
import type { LeftInFloat, QuantizeOptions } from './options.js';
import { quantizeWeights, type QuantOptions } from './quant-math.js';
import { quantizeEveryGraph } from './subgraphs.js';

export const DYNAMIC_OPS = ['MatMul', 'Gemm', 'Conv'];
/** Quantized when opTypes is not given: Conv is left out, see CONV_LEFT_FLOAT. */
export const DEFAULT_DYNAMIC_OPS = ['MatMul', 'Gemm'];

/**
 * Why Conv stays float by default: onnxruntime's CPU ConvInteger, even on its uint8 x uint8
 * kernel, measured 1.1-2.4x slower than float Conv (one thread: the PP-OCR detector at
 * 320x320 1.10-1.30x, CIFAR ResNet-20 1.55x, ultraface 2.37x; with int8 weights 4.1x, 5.2x,
 * 9.0x), so the quantized model would be smaller but slower.
 */
export const CONV_LEFT_FLOAT = "int8-dynamic leaves Conv in float unless the op types asked for include it (option opTypes, CLI --op-types): onnxruntime runs ConvInteger 1.1-2.4x slower than float Conv on CPU";
const CONV_BY_DEFAULT = 'not quantized by default (ConvInteger is slower than float Conv)';

export function quantizeDynamic(model: Model, o: QuantizeOptions, left: LeftInFloat[], warnings: string[] = []): Record<string, number> {
  const counts: Record<string, number> = {};
  const weightOptions: QuantOptions = { type: 'int8', symmetric: true, reduceRange: o.reduceRange };
  const wanted = o.opTypes ?? DEFAULT_DYNAMIC_OPS;
  let convsLeft = 0;
  // Bodies too: a weight read in several graphs (both branches of an If) is stored once.
  quantizeEveryGraph(model, (g) => {
    const shapes = inferShapes(g);
    const names = new NameAllocator(g);
    const consumers = g.consumers();
    for (const node of [...g.nodes]) {
      const name = node.name || node.outputs[0] || '?';
      if (!node.isOnnx()) continue;
      if (node.opType === 'Conv' && !o.opTypes) { left.push({ node: name, opType: 'Conv', reason: CONV_BY_DEFAULT }); convsLeft++; continue; }
      if (!DYNAMIC_OPS.includes(node.opType) || !wanted.includes(node.opType)) continue;
      if (o.excludeOpTypes?.includes(node.opType) || o.excludeNodes?.includes(name)) { left.push({ node: name, opType: node.opType, reason: 'excluded' }); continue; }
      if (feedsLog(g, consumers, node.outputs[0] ?? '')) { left.push({ node: name, opType: node.opType, reason: FEEDS_LOG }); continue; }
      const reason = rewrite(g, node, names, shapes, weightOptions, o.perChannel ?? node.opType === 'Conv');
      if (reason) left.push({ node: name, opType: node.opType, reason });
      else counts[node.opType] = (counts[node.opType] ?? 0) + 1;
    }
    topologicalSort(g);
  });
  if (convsLeft) warnings.push(`${convsLeft} Conv left in float. ${CONV_LEFT_FLOAT}`);
  return counts;
}

function rewrite(g: Graph, node: Node, names: NameAllocator, shapes: ReturnType<typeof inferShapes>, wo: QuantOptions, perChannel: boolean): string | undefined {
  const x = node.inputs[0]!;
  const w = g.findInitializer(node.inputs[1] ?? '');
  if (!w || w.dataType !== DataType.FLOAT) return 'weights are not a float constant';
  if (shapes.get(x)?.elemType !== DataType.FLOAT) return 'input is not known to be float';
  const base = node.name || node.outputs[0]!;
  const out = node.outputs[0]!;
  let weight = w.toFloat32();
  let dims = w.dims;
  let axis: number;
  if (node.opType === 'Gemm') {
    if (node.getInt('transA', 0) || node.getFloat('alpha', 1) !== 1 || (node.inputs[2] && node.getFloat('beta', 1) !== 1)) return 'Gemm with transA, alpha or beta';
    // Gemm's A is 2-D by the spec; a known rank that is not 2 is an invalid model.
    const rank = shapes.get(x)?.dims?.length;
    if (rank !== undefined && rank !== 2) return `Gemm input of rank ${rank}`;
    if (node.getInt('transB', 0)) { weight = transpose2d(weight, dims[0]!, dims[1]!); dims = [dims[1]!, dims[0]!]; }
    axis = 1;
  } else if (node.opType === 'MatMul') {
    if (dims.length !== 2) return 'MatMul weights are not 2-D';
    axis = 1;
  } else {
    axis = 0; // Conv: output channels lead the weights
  }
  const q = quantizeWeights(weight, dims, wo, perChannel ? axis : undefined);
  const wq = names.next(`${node.inputs[1]}_quantized`);
  // ConvInteger's fast kernel in onnxruntime is uint8 x uint8: the same symmetric int8 values
  // stored + 128 with a zero point of 128 (exact). Measured on the PP-OCR detector at 320x320,
  // one thread: int8 weights 4.0x slower than float, uint8 1.10x. MatMulInteger keeps int8
  // (uint8 x int8 is its fast path on x86).
  const convZeroPoint = node.opType === 'Conv' ? names.next(`${node.inputs[1]}_zero_point`) : undefined;
  if (convZeroPoint) {
    addInitializer(g, Tensor.fromTyped(wq, DataType.UINT8, dims, Uint8Array.from(q.values, (v) => v + 128)));
    addInitializer(g, Tensor.fromTyped(convZeroPoint, DataType.UINT8, [], Uint8Array.from([128])));
  } else addInitializer(g, Tensor.fromTyped(wq, DataType.INT8, dims, q.values));
  const channels = q.scales.length;
  const scaleDims = node.opType === 'Conv' && channels > 1 ? [channels, ...dims.slice(2).map(() => 1)] : channels > 1 ? [channels] : [];
  const ws = names.next(`${node.inputs[1]}_scale`);
  addInitializer(g, Tensor.fromFloat32(ws, scaleDims, q.scales));

  const xq = names.next(`${x}_quantized`), xs = names.next(`${x}_scale`), xz = names.next(`${x}_zero_point`);
  const integer = names.next(`${base}_int32`), asFloat = names.next(`${base}_float`), scale = names.next(`${base}_output_scale`);
  const scaled = node.inputs[2] && node.opType !== 'MatMul' ? names.next(`${base}_scaled`) : out;
  const added: Node[] = [
    new Node({ opType: 'DynamicQuantizeLinear', inputs: [x], outputs: [xq, xs, xz], name: names.next(`${base}_DynamicQuantizeLinear`) }),
    node.opType === 'Conv'
      ? new Node({ opType: 'ConvInteger', inputs: [xq, wq, xz, convZeroPoint!], outputs: [integer], name: names.next(`${base}_ConvInteger`), attributes: node.attributes.filter((a) => a.name !== 'activation') })
      : new Node({ opType: 'MatMulInteger', inputs: [xq, wq, xz], outputs: [integer], name: names.next(`${base}_MatMulInteger`) }),
    new Node({ opType: 'Cast', inputs: [integer], outputs: [asFloat], name: names.next(`${base}_Cast`), attributes: [attr.int('to', DataType.FLOAT)] }),
    new Node({ opType: 'Mul', inputs: [xs, ws], outputs: [scale], name: names.next(`${base}_scale_Mul`) }),
    new Node({ opType: 'Mul', inputs: [asFloat, scale], outputs: [scaled], name: names.next(`${base}_Mul`) }),
  ];
  if (scaled !== out) {
    let bias = node.inputs[2]!;
    if (node.opType === 'Conv') {
      // Conv bias [C] broadcasts over [N, C, H, W] only as [C, 1, 1].
      const b = g.findInitializer(bias);
      if (!b) return 'Conv bias is not a constant';
      bias = names.next(`${bias}_reshaped`);
      addInitializer(g, Tensor.fromFloat32(bias, [b.elementCount, ...dims.slice(2).map(() => 1)], b.toFloat32()));
    }
    added.push(new Node({ opType: 'Add', inputs: [scaled, bias], outputs: [out], name: names.next(`${base}_bias_Add`) }));
  }
  replaceNode(g, node, added);
  return undefined;
}

function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}
