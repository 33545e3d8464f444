import { expect } from 'vitest';
import { DataType, GraphBuilder, Tensor, f } from '../helpers/graph-builder.js';
import { escapeCases, inCustomDomain, testPass } from '../helpers/pass-tester.js';

interface ConvOptions {
  op?: 'Mul' | 'Div';
  factor?: number[];
  factorDims?: number[];
  convOnRight?: boolean;
  bias?: boolean;
  extra?: (b: GraphBuilder, conv: string) => void;
}

// x[1,3,5,5] -> Conv(w[4,3,3,3]) -> Mul|Div(k) -> y
function convMul(o: ConvOptions = {}) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 3, 5, 5]);
    const w = b.weight('w', [4, 3, 3, 3]);
    const conv = b.node('Conv', o.bias ? [x, w, b.weight('cb', [4])] : [x, w]);
    const k = b.weight('k', o.factorDims ?? [4, 1, 1], o.factor, [0.5, 2]);
    b.output(b.node(o.op ?? 'Mul', o.convOnRight ? [k, conv] : [conv, k]));
    o.extra?.(b, conv);
    return b.model(13);
  };
}

// x[2,5] -> Gemm(w, bias) -> Mul(k[4]) -> y
function gemmMul(o: { transB?: 0 | 1; beta?: number; biasDims?: number[] } = {}) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 5]);
    const w = b.weight('w', o.transB ? [4, 5] : [5, 4]);
    const gemm = b.node('Gemm', [x, w, b.weight('gb', o.biasDims ?? [4])], { transB: o.transB ?? 0, ...(o.beta !== undefined ? { beta: f(o.beta) } : {}) });
    b.output(b.node('Mul', [gemm, b.weight('k', [4], undefined, [0.5, 2])]));
    return b.model(13);
  };
}

const fused = { stats: { fused: 1 } };

testPass('fuse-mul-into-conv', {
  kind: 'fusion',
  invalid: [
    { name: 'Conv times a [C,1,1] constant', build: convMul(), ops: { Conv: 1, Mul: 0 }, nodeCount: 1, ...fused },
    { name: 'Conv with bias times a [1,C,1,1] constant', build: convMul({ bias: true, factorDims: [1, 4, 1, 1] }), ops: { Conv: 1, Mul: 0 }, ...fused },
    { name: 'the Conv on the right of the Mul', build: convMul({ convOnRight: true }), ops: { Conv: 1, Mul: 0 }, ...fused },
    { name: 'Conv divided by a constant', build: convMul({ op: 'Div' }), ops: { Conv: 1, Div: 0 }, ...fused },
    {
      name: 'a weight another Conv also reads (that Conv keeps it)',
      build: convMul({ extra: (b) => b.output(b.node('Conv', ['x', 'w'])) }),
      ops: { Conv: 2, Mul: 0 },
      ...fused,
      check: (m) => expect(m.graph.nodes.filter((n) => n.inputs[1] === 'w')).toHaveLength(1),
    },
    { name: 'Gemm times a [N] constant', build: gemmMul(), ops: { Gemm: 1, Mul: 0 }, ...fused },
    { name: 'Gemm with transB', build: gemmMul({ transB: 1 }), ops: { Gemm: 1, Mul: 0 }, ...fused },
    { name: 'Gemm with a broadcast [1] bias', build: gemmMul({ biasDims: [1] }), ops: { Gemm: 1, Mul: 0 }, ...fused },
  ],
  valid: [
    { name: 'division by a factor with a zero', build: convMul({ op: 'Div', factor: [1, 0, 2, 3] }), diagnostic: 'non-finite factor' },
    { name: 'a constant divided by the Conv', build: convMul({ op: 'Div', convOnRight: true }), diagnostic: 'no Conv/Gemm input' },
    { name: 'a [C] factor (broadcasts along the width)', build: convMul({ factorDims: [4] }), diagnostic: 'not a per-channel float constant' },
    { name: 'Conv weights that are also a graph input (overridable)', build: convMul({ extra: (b) => b.input('w', [4, 3, 3, 3]) }), diagnostic: 'weights are not a float constant' },
    ...escapeCases('the Conv output', (extra) => convMul({ extra }), 'other readers'),
    { name: 'Gemm with beta != 1', build: gemmMul({ beta: 2 }), diagnostic: 'beta != 1' },
    {
      name: 'float16 Conv weights',
      build: () => {
        const m = convMul()();
        const w = m.graph.initializers.get('w')!;
        m.graph.initializers.set('w', Tensor.fromTyped('w', DataType.FLOAT16, w.dims, new Uint16Array(w.elementCount)));
        return m;
      },
      diagnostic: 'weights are not a float constant',
    },
    { name: 'a Mul of a custom domain', build: inCustomDomain(convMul(), 'Mul') },
  ],
});
