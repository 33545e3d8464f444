// Conv or Gemm followed by Mul (or Div) by a per-output-channel constant: scale the
// weights and bias instead.
import type { Graph, Node } from '../src/ir/graph.js';
import { bypassNode, setInput } from '../src/ir/mutate.js';
import { inferShapes } from '../src/ir/shapes.js';
import { addFloatInitializer, floatValues, perChannel } from '../src/pass/weights.js';
import { GraphIndex, matched, noMatch, rulePass, type Match } from '../src/pass/rule.js';

interface MulMatch { producer: Node; mul: Node; factor: Float32Array }

export const fuseMulIntoConv = rulePass<MulMatch>('fuse-mul-into-conv', 'fold Mul/Div by a per-channel constant into the preceding Conv or Gemm weights', {
  rootOps: ['Mul', 'Div'],
  match(mul, index): Match<MulMatch> {
    const side = index.producerOf(mul.inputs[0], 'Conv', 'Gemm') ? 0 : mul.opType === 'Mul' && index.producerOf(mul.inputs[1], 'Conv', 'Gemm') ? 1 : -1;
    if (side < 0) return noMatch('no Conv/Gemm input');
    const producer = index.producerOf(mul.inputs[side], 'Conv', 'Gemm')!;
    if (index.soleConsumer(producer.outputs[0]!) !== mul) return noMatch('producer output has other readers');
    const w = index.constant(producer.inputs[1]);
    if (!w || !floatValues(w)) return noMatch('weights are not a float constant');
    if (producer.inputs[2] && !floatValues(index.constant(producer.inputs[2]))) return noMatch('bias is not a float constant');
    const isGemm = producer.opType === 'Gemm';
    const shapes = inferShapes(index.graph);
    const out = shapes.get(producer.outputs[0]!)?.dims;
    const channels = isGemm ? out?.[1] : w.dims[0];
    if (typeof channels !== 'number') return noMatch('output channels unknown');
    const rank = isGemm ? 2 : w.dims.length;
    const k = index.constant(mul.inputs[1 - side]);
    const factor = perChannel(k, channels, rank);
    if (!factor || !k || k.dims.length > rank) return noMatch('factor is not a per-channel float constant');
    const mulOut = shapes.get(mul.outputs[0]!)?.dims;
    if (!mulOut || !out || mulOut.length !== out.length) return noMatch('cannot prove the Mul keeps the shape');
    if (isGemm && (producer.inputs[2] && producer.getFloat('beta', 1) !== 1)) return noMatch('Gemm beta != 1');
    const biasDims = producer.inputs[2] ? index.constant(producer.inputs[2])!.dims : [];
    if (biasDims.length === 2 && biasDims[0] !== 1) return noMatch('Gemm bias varies per row');
    if (factor.some((f) => !Number.isFinite(f) || (mul.opType === 'Div' && f === 0))) return noMatch('non-finite factor');
    return matched({ producer, mul, factor: mul.opType === 'Div' ? factor.map((f) => 1 / f) : factor });
  },
  apply({ producer, mul, factor }, graph: Graph) {
    const index = new GraphIndex(graph);
    const wT = index.constant(producer.inputs[1])!;
    const w = floatValues(wT)!.slice();
    if (producer.opType === 'Conv') {
      const per = w.length / wT.dims[0]!;
      for (let o = 0; o < wT.dims[0]!; o++) for (let k = 0; k < per; k++) w[o * per + k]! *= factor[o]!;
    } else {
      const transB = producer.getInt('transB', 0) === 1;
      const [r, k] = wT.dims as [number, number];
      for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) w[i * k + j]! *= factor[transB ? i : j]!;
    }
    setInput(producer, 1, addFloatInitializer(graph, `${producer.inputs[1]}_scaled`, wT.dims, w));
    if (producer.inputs[2]) {
      const bT = index.constant(producer.inputs[2])!;
      const b = floatValues(bT)!;
      // A Gemm bias may broadcast ([1] or [N]); expand it to per-channel before scaling.
      const scaled = factor.map((f, i) => f * b[b.length === 1 ? 0 : i]!);
      setInput(producer, 2, addFloatInitializer(graph, `${producer.inputs[2]}_scaled`, [factor.length], scaled));
    }
    bypassNode(graph, mul, producer.outputs[0]!);
    return ['fused'];
  },
});
