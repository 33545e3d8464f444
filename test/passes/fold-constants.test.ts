import { expect } from 'vitest';
import { DataType, GraphBuilder, Tensor } from '../helpers/graph-builder.js';
import { inCustomDomain, testPass } from '../helpers/pass-tester.js';

// x[2,3] + (w1 * w2) -> y: the product is computable now.
function constantProduct(extra?: (b: GraphBuilder, product: string) => void) {
  return () => {
    const b = new GraphBuilder();
    const product = b.node('Mul', [b.weight('w1', [2, 3]), b.weight('w2', [2, 3])]);
    b.output(b.node('Add', [b.input('x', [2, 3]), product]));
    extra?.(b, product);
    return b.model(13);
  };
}

/**
 * x[32, 32] -> an If whose then branch reads the large outer weight w transposed (foldable);
 * `elseReadsW`: the else branch reads w too (negated), else it passes x on; `extra` adds
 * other readers of w or an input named w.
 */
function outerWeightInBody(elseReadsW: boolean, extra?: (b: GraphBuilder, x: string, w: string) => void) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [32, 32]);
    const w = b.weight('w', [32, 32]);
    extra?.(b, x, w);
    b.output(b.ifNode(b.cond(), (t) => t.node('MatMul', [x, t.node('Transpose', [w], { perm: [1, 0] }, { outputs: ['wt'] })], {}, { outputs: ['y_then'] }),
      (e) => (elseReadsW ? e.node('MatMul', [x, e.node('Neg', [w], {}, { outputs: ['wn'] })], {}, { outputs: ['y_else'] }) : e.node('Identity', [x], {}, { outputs: ['y_else'] }))));
    return b.model(13);
  };
}

testPass('fold-constants', {
  // onnxruntime computes the folded values with the same kernels it runs later.
  kind: 'cleanup',
  invalid: [
    {
      name: 'a product of two weights',
      build: constantProduct(),
      ops: { Mul: 0 },
      nodeCount: 1,
      stats: { folded: 1 },
      check: (m) => expect(m.graph.initializers.has('mul')).toBe(true),
    },
    {
      name: 'a chain of constant nodes (one value replaces the chain)',
      build: () => {
        const b = new GraphBuilder();
        const t = b.node('Transpose', [b.node('Neg', [b.weight('w', [3, 2])])], { perm: [1, 0] });
        b.output(b.node('Add', [b.input('x', [2, 3]), t]));
        return b.model(13);
      },
      nodeCount: 1,
      stats: { folded: 1 },
    },
    {
      name: 'Shape of a statically shaped value (no run needed)',
      build: () => {
        const b = new GraphBuilder();
        const x = b.input('x', [2, 3, 4]);
        // Exporters name nodes by scope; the name is part of what folding frees.
        const shape = b.node('Shape', [b.node('Relu', [b.input('z', [4, 6])])], {}, { name: '/model/encoder/layer.0/flatten/Shape' });
        b.output(b.node('Reshape', [x, shape]));
        return b.model(13);
      },
      ops: { Shape: 0, Reshape: 1 },
      stats: { folded: 1 },
    },
    {
      name: 'a constant value an If body captures',
      build: constantProduct((b, p) => b.output(b.ifCapturing(b.cond(), p))),
      ops: { Mul: 0 },
      stats: { folded: 1 },
    },
    {
      name: 'a constant node inside an If body, reading an outer weight',
      build: () => {
        const b = new GraphBuilder();
        const x = b.input('x', [2, 3]);
        const w = b.weight('w', [2, 3]);
        const name = '/model/encoder/layer.0/attention/output/Neg';
        b.output(b.ifNode(b.cond(), (t) => t.node('Add', [x, t.node('Neg', [w], {}, { outputs: ['neg_w'], name })], {}, { outputs: ['y_then'] }),
          (e) => e.node('Identity', [x], {}, { outputs: ['y_else'] })));
        return b.model(13);
      },
      ops: { Neg: 0 },
      stats: { folded: 1 },
    },
    {
      // The outer weight is read by nothing else, so folding frees it: the file does not grow.
      name: 'a large outer weight reshaped inside a body that alone reads it',
      build: outerWeightInBody(false),
      ops: { Transpose: 0 },
      stats: { folded: 1 },
      check: (m) => expect(m.graph.initializers.has('w')).toBe(false),
    },
  ],
  valid: [
    {
      // Each branch folding its own copy would store the weight twice.
      name: 'a large outer weight reshaped in both branches',
      build: outerWeightInBody(true),
      diagnostic: /folding would add \d+ bytes/,
    },
    {
      name: 'a large outer weight reshaped in a body and also read by the outer graph',
      build: outerWeightInBody(false, (b, x, w) => b.output(b.node('Add', [x, w]))),
      diagnostic: /folding would add \d+ bytes/,
    },
    {
      // The caller may override the weight: its value is not known now.
      name: 'a large outer weight that is also a graph input, reshaped in a body',
      build: outerWeightInBody(false, (b, _x, w) => b.input(w, [32, 32])),
    },
    {
      name: 'nodes that read a graph input',
      build: () => {
        const b = new GraphBuilder();
        b.output(b.node('Relu', [b.node('Add', [b.input('x', [2, 3]), b.weight('w', [2, 3])])]));
        return b.model(13);
      },
    },
    { name: 'a weight that is also a graph input (the caller may override it)', build: constantProduct((b) => b.input('w1', [2, 3])) },
    { name: 'a constant value that is a graph output (its producer stays)', build: constantProduct((b, p) => b.output(p)) },
    {
      name: 'a value larger than what it frees (ConstantOfShape of a big shape)',
      build: () => {
        const b = new GraphBuilder();
        const big = b.node('ConstantOfShape', [b.int64('shape', [64, 64])], { value: { name: 'value', type: 4, t: Tensor.fromFloat32('', [1], Float32Array.of(1)) } });
        b.output(b.node('Add', [b.input('x', [64, 64]), big]));
        return b.model(13);
      },
      diagnostic: /folding would add \d+ bytes/,
    },
    {
      name: 'a random op',
      build: () => {
        const b = new GraphBuilder();
        b.output(b.node('Add', [b.input('x', [2, 3]), b.node('RandomUniformLike', [b.weight('w', [2, 3])], { dtype: DataType.FLOAT })]));
        return b.model(13);
      },
    },
    { name: 'a node of a custom domain with constant inputs', build: inCustomDomain(constantProduct(), 'Mul') },
  ],
});
