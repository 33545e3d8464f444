// Conv/ConvTranspose/Gemm followed by BatchNormalization (inference) is one Conv with
// scaled weights: y = s*(Wx + b - mean) + beta, with s = gamma / sqrt(var + eps).
import type { Graph, Node } from '../src/ir/graph.js';
import { bypassNode, setInput } from '../src/ir/mutate.js';
import { inferShapes } from '../src/ir/shapes.js';
import { addFloatInitializer, floatValues } from '../src/pass/weights.js';
import { GraphIndex, matched, noMatch, rulePass, type Match } from '../src/pass/rule.js';

interface BnMatch { producer: Node; bn: Node; s: Float32Array; shift: Float32Array }

export const fuseBnIntoConv = rulePass<BnMatch>('fuse-bn-into-conv', 'fold BatchNormalization into the preceding Conv, ConvTranspose or Gemm', {
  rootOps: ['BatchNormalization'],
  match(bn, index): Match<BnMatch> {
    if (bn.outputs.filter((o) => o).length !== 1 || bn.getInt('training_mode', 0) !== 0) return noMatch('training-mode BatchNormalization');
    const producer = index.producerOf(bn.inputs[0], 'Conv', 'ConvTranspose', 'Gemm');
    if (!producer) return noMatch('input is not a Conv, ConvTranspose or Gemm');
    if (index.soleConsumer(producer.outputs[0]!) !== bn) return noMatch('the producer output has other readers');
    const [scale, bias, mean, variance] = bn.inputs.slice(1, 5).map((n) => floatValues(index.constant(n)));
    if (!scale || !bias || !mean || !variance) return noMatch('BatchNormalization parameters are not float constants');
    const eps = bn.getFloat('epsilon', 1e-5);
    const c = scale.length;
    if (![bias, mean, variance].every((v) => v.length === c)) return noMatch('parameter lengths differ');
    const s = new Float32Array(c);
    const shift = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      s[i] = scale[i]! / Math.sqrt(variance[i]! + eps);
      shift[i] = bias[i]! - mean[i]! * s[i]!;
    }
    const w = index.constant(producer.inputs[1]);
    if (!w || !floatValues(w)) return noMatch('weights are not a float constant');
    // Before opset 9, spatial=0 gives one parameter per element, not per channel.
    const channels = producer.opType === 'Conv' ? w.dims[0] : producer.opType === 'ConvTranspose' ? w.dims[1]! * producer.getInt('group', 1) : c;
    if (channels !== c) return noMatch('parameters are not one per output channel');
    if (producer.inputs[2] && !floatValues(index.constant(producer.inputs[2]))) return noMatch('bias is not a float constant');
    if (producer.opType === 'Gemm') {
      const shapes = inferShapes(index.graph);
      const out = shapes.get(producer.outputs[0]!)?.dims;
      if (!out || out[1] !== c || producer.getFloat('alpha', 1) !== 1) return noMatch('Gemm output width unknown or alpha != 1');
      if (producer.inputs[2] && producer.getFloat('beta', 1) !== 1) return noMatch('Gemm beta != 1');
      // The fused bias is per output column: a C of shape [M, N] varies per row too.
      const gemmBias = producer.inputs[2] ? index.constant(producer.inputs[2]) : undefined;
      if (gemmBias && gemmBias.elementCount !== 1 && (gemmBias.elementCount !== c || gemmBias.dims[gemmBias.dims.length - 1] !== c)) return noMatch('Gemm bias varies per row');
    }
    return matched({ producer, bn, s, shift });
  },
  apply({ producer, bn, s, shift }, graph: Graph) {
    const index = new GraphIndex(graph);
    const wT = index.constant(producer.inputs[1])!;
    const w = floatValues(wT)!.slice();
    const c = s.length;
    scaleWeights(producer, wT.dims, w, s);
    const b = new Float32Array(c);
    const oldBias = producer.inputs[2] ? floatValues(index.constant(producer.inputs[2])) : undefined;
    for (let i = 0; i < c; i++) b[i] = (oldBias ? oldBias[oldBias.length === 1 ? 0 : i]! : 0) * s[i]! + shift[i]!;
    setInput(producer, 1, addFloatInitializer(graph, `${producer.inputs[1]}_bn`, wT.dims, w));
    setInput(producer, 2, addFloatInitializer(graph, `${producer.name || producer.outputs[0]}_bias_bn`, [c], b));
    if (producer.opType === 'Gemm' && !producer.attr('beta')) producer.setAttr({ name: 'beta', type: 1, f: 1 });
    bypassNode(graph, bn, producer.outputs[0]!);
    return ['fused'];
  },
});

/** Multiplies each output channel's weights by s[c], wherever that channel sits in W. */
function scaleWeights(producer: Node, dims: number[], w: Float32Array, s: Float32Array): void {
  const c = s.length;
  if (producer.opType === 'Conv') {
    const per = w.length / dims[0]!;
    for (let o = 0; o < dims[0]!; o++) for (let k = 0; k < per; k++) w[o * per + k]! *= s[o]!;
  } else if (producer.opType === 'ConvTranspose') {
    // W is [Cin, Cout/group, k...]; output channel = g * (Cout/group) + j.
    const group = producer.getInt('group', 1);
    const coutPerGroup = dims[1]!;
    const cinPerGroup = dims[0]! / group;
    const spatial = w.length / (dims[0]! * dims[1]!);
    for (let i = 0; i < dims[0]!; i++) {
      const g = Math.floor(i / cinPerGroup);
      for (let j = 0; j < coutPerGroup; j++) {
        const ch = g * coutPerGroup + j;
        for (let k = 0; k < spatial; k++) w[(i * coutPerGroup + j) * spatial + k]! *= s[ch]!;
      }
    }
  } else {
    // Gemm: output column n comes from W[:, n] (or W[n, :] with transB).
    const transB = producer.getInt('transB', 0) === 1;
    const [r, k] = dims as [number, number];
    for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) w[i * k + j]! *= s[transB ? i : j]!;
  }
  void c;
}
