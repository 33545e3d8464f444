import { expect } from 'vitest';
import { DataType, GraphBuilder, Tensor } from '../helpers/graph-builder.js';
import { escapeCases, inCustomDomain, testPass } from '../helpers/pass-tester.js';

interface Options {
  xDims?: number[];
  biasDims?: number[];
  matmulOnRight?: boolean;
  biasInput?: boolean;
  extra?: (b: GraphBuilder, mm: string) => void;
}

// x[3,5] -> MatMul(w[5,4]) -> Add(bias) -> y
function matmulAdd(o: Options = {}) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', o.xDims ?? [3, 5]);
    const w = b.weight('w', [5, 4]);
    const mm = b.node('MatMul', [x, w]);
    const dims = o.biasDims ?? [4];
    const bias = o.biasInput ? b.input('bias', dims) : b.weight('bias', dims);
    b.output(b.node('Add', o.matmulOnRight ? [bias, mm] : [mm, bias]));
    o.extra?.(b, mm);
    return b.model(13);
  };
}

const fused = { ops: { Gemm: 1, MatMul: 0, Add: 0 }, stats: { fused: 1 } };

testPass('fuse-matmul-add-into-gemm', {
  kind: 'fusion',
  invalid: [
    { name: '[M,K] x [K,N] + [N]', build: matmulAdd(), ...fused, nodeCount: 1 },
    { name: 'a [1,N] bias', build: matmulAdd({ biasDims: [1, 4] }), ...fused },
    { name: 'the MatMul on the right of the Add', build: matmulAdd({ matmulOnRight: true }), ...fused },
    {
      name: 'a weight another MatMul also reads',
      build: matmulAdd({ extra: (b) => b.output(b.node('MatMul', ['x', 'w'])) }),
      ops: { Gemm: 1, MatMul: 1, Add: 0 },
      stats: { fused: 1 },
      check: (m) => expect(m.graph.nodes.filter((n) => n.inputs[1] === 'w')).toHaveLength(2),
    },
    {
      name: 'inside an If body, with weights of the outer graph',
      build: () => {
        const b = new GraphBuilder();
        const x = b.input('x', [3, 5]);
        const [w, bias] = [b.weight('w', [5, 4]), b.weight('bias', [4])];
        b.output(b.ifNode(b.cond(), (t) => t.node('Add', [t.node('MatMul', [x, w], {}, { outputs: ['mm'] }), bias], {}, { outputs: ['y_then'] }),
          (e) => e.node('MatMul', [x, w], {}, { outputs: ['y_else'] })));
        return b.model(13);
      },
      ops: { Gemm: 1, MatMul: 1, Add: 0 },
      stats: { fused: 1 },
    },
  ],
  valid: [
    { name: 'a 3-D MatMul', build: matmulAdd({ xDims: [2, 3, 5] }), diagnostic: 'not a 2-D MatMul' },
    { name: 'a [M,N] bias (Gemm would broadcast it differently)', build: matmulAdd({ biasDims: [3, 4] }), diagnostic: 'shape [N] or [1, N]' },
    { name: 'the bias is fed at run time', build: matmulAdd({ biasInput: true }), diagnostic: 'shape [N] or [1, N]' },
    {
      name: 'a bias of another dtype',
      build: () => {
        const m = matmulAdd()();
        m.graph.initializers.set('bias', Tensor.fromTyped('bias', DataType.DOUBLE, [4], new Float64Array(4)));
        return m;
      },
      diagnostic: 'shape [N] or [1, N]',
    },
    { name: 'a MatMul weight that is also a graph input (overridable)', build: matmulAdd({ extra: (b) => b.input('w', [5, 4]) }), diagnostic: 'constant right side' },
    ...escapeCases('the MatMul output', (extra) => matmulAdd({ extra }), 'other readers'),
    { name: 'a MatMul of a custom domain', build: inCustomDomain(matmulAdd(), 'MatMul'), diagnostic: 'no MatMul input' },
  ],
});
