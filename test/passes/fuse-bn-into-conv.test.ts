import { expect } from 'vitest';
import { GraphBuilder, f } from '../helpers/graph-builder.js';
import { escapeCases, inCustomDomain, testPass } from '../helpers/pass-tester.js';

// x[1,3,6,6] -> producer -> BatchNormalization(gamma, beta, mean, var) -> y
function convBn(o: { bias?: boolean; sharedWeight?: boolean; training?: boolean; constVar?: boolean; extra?: (b: GraphBuilder, conv: string) => void } = {}) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 3, 6, 6]);
    const w = b.weight('w', [4, 3, 3, 3]);
    const conv = b.node('Conv', o.bias ? [x, w, b.weight('cb', [4])] : [x, w], { pads: [1, 1, 1, 1] });
    const variance = o.constVar === false ? b.input('var', [4]) : b.weight('var', [4], undefined, [0.5, 1.5]);
    const bnIns = [conv, b.weight('gamma', [4]), b.weight('beta', [4]), b.weight('mean', [4]), variance];
    const y = b.nodeOutputs('BatchNormalization', bnIns, { epsilon: 1e-3, ...(o.training ? { training_mode: 1 } : {}) }, { outputs: o.training ? 3 : 1 })[0]!;
    b.output(y);
    if (o.sharedWeight) b.output(b.node('Conv', [x, w]));
    o.extra?.(b, conv);
    return b.model(o.training ? 15 : 13);
  };
}

function gemmBn(transB: 0 | 1, alpha = 1, biasDims = [4]) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 5]);
    const gemm = b.node('Gemm', [x, b.weight('w', transB ? [4, 5] : [5, 4]), b.weight('gb', biasDims)], { transB, alpha: f(alpha) });
    b.output(b.node('BatchNormalization', [gemm, b.weight('gamma', [4]), b.weight('beta', [4]), b.weight('mean', [4]), b.weight('var', [4], undefined, [0.5, 1.5])], { epsilon: 0.01 }));
    return b.model(13);
  };
}

function convTransposeBn(group: number) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 5, 5]);
    // W is [Cin, Cout/group, k, k]: 4 input channels, 3 outputs per group.
    const ct = b.node('ConvTranspose', [x, b.weight('w', [4, 3, 3, 3])], { group, strides: [2, 2] });
    const c = 3 * group;
    b.output(b.node('BatchNormalization', [ct, b.weight('gamma', [c]), b.weight('beta', [c]), b.weight('mean', [c]), b.weight('var', [c], undefined, [0.5, 1.5])], { epsilon: 0.01 }));
    return b.model(13);
  };
}

testPass('fuse-bn-into-conv', {
  kind: 'fusion',
  invalid: [
    { name: 'Conv without bias', build: convBn(), ops: { Conv: 1, BatchNormalization: 0 }, nodeCount: 1, stats: { fused: 1 } },
    { name: 'Conv with bias', build: convBn({ bias: true }), ops: { Conv: 1, BatchNormalization: 0 }, nodeCount: 1, stats: { fused: 1 } },
    {
      name: 'Conv whose weight another Conv also reads (the other keeps the original weight)',
      build: convBn({ sharedWeight: true }),
      ops: { Conv: 2, BatchNormalization: 0 },
      stats: { fused: 1 },
      check: (m) => expect(m.graph.nodes.filter((n) => n.inputs[1] === 'w')).toHaveLength(1),
    },
    { name: 'Gemm', build: gemmBn(0), ops: { Gemm: 1, BatchNormalization: 0 }, stats: { fused: 1 } },
    { name: 'Gemm with transB', build: gemmBn(1), ops: { Gemm: 1, BatchNormalization: 0 }, stats: { fused: 1 } },
    { name: 'Gemm with a [1,N] bias', build: gemmBn(0, 1, [1, 4]), ops: { BatchNormalization: 0 }, stats: { fused: 1 } },
    { name: 'Gemm with a scalar bias', build: gemmBn(0, 1, [1]), ops: { BatchNormalization: 0 }, stats: { fused: 1 } },
    { name: 'ConvTranspose', build: convTransposeBn(1), ops: { ConvTranspose: 1, BatchNormalization: 0 }, stats: { fused: 1 } },
    { name: 'grouped ConvTranspose', build: convTransposeBn(2), ops: { ConvTranspose: 1, BatchNormalization: 0 }, stats: { fused: 1 } },
  ],
  valid: [
    ...escapeCases('the Conv output', (extra) => convBn({ extra }), 'other readers'),
    { name: 'Conv weights that are also a graph input (overridable)', build: convBn({ extra: (b) => b.input('w', [4, 3, 3, 3]) }), diagnostic: 'weights are not a float constant' },
    { name: 'training-mode BatchNormalization', build: convBn({ training: true }), diagnostic: 'training-mode' },
    { name: 'variance fed at run time', build: convBn({ constVar: false }), diagnostic: 'not float constants' },
    { name: 'Gemm with a [M,N] bias (varies per row, not per channel)', build: gemmBn(0, 1, [2, 4]), diagnostic: 'Gemm bias varies per row' },
    {
      name: 'a per-element BatchNormalization (opset 7, spatial=0)',
      build: () => {
        const b = new GraphBuilder();
        const conv = b.node('Conv', [b.input('x', [1, 3, 6, 6]), b.weight('w', [4, 3, 3, 3])], { pads: [1, 1, 1, 1] });
        const p = [4, 6, 6];
        b.output(b.node('BatchNormalization', [conv, b.weight('gamma', p), b.weight('beta', p), b.weight('mean', p), b.weight('var', p, undefined, [0.5, 1.5])], { spatial: 0 }));
        return b.model(7);
      },
      diagnostic: 'not one per output channel',
    },
    { name: 'Gemm with alpha != 1', build: gemmBn(0, 2), diagnostic: 'alpha != 1' },
    { name: 'a BatchNormalization of a custom domain', build: inCustomDomain(convBn(), 'BatchNormalization') },
  ],
});
