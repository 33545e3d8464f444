import { expect } from 'vitest';
import { GraphBuilder } from '../helpers/graph-builder.js';
import { escapeCases, inCustomDomain, testPass } from '../helpers/pass-tester.js';

// Gemm(A, B) where A or B is Transpose(perm) of a [4,3] / [5,4] operand.
function transposeGemm(o: { slot?: 0 | 1; perm?: number[]; transB?: 0 | 1; extra?: (b: GraphBuilder, t: string) => void } = {}) {
  return () => {
    const b = new GraphBuilder();
    const slot = o.slot ?? 0;
    const a = slot === 0 ? b.input('a', [4, 3]) : b.input('a', [3, 4]);
    const bw = slot === 1 ? b.weight('bw', o.transB ? [4, 5] : [5, 4]) : b.weight('bw', o.transB ? [5, 4] : [4, 5]);
    const t = b.node('Transpose', [slot === 0 ? a : bw], { perm: o.perm ?? [1, 0] });
    b.output(b.node('Gemm', slot === 0 ? [t, bw] : [a, t], o.transB ? { transB: 1 } : {}));
    o.extra?.(b, t);
    return b.model(13);
  };
}

const gemmAttr = (m: import('../helpers/graph-builder.js').Model, name: string) => m.graph.nodes.find((n) => n.opType === 'Gemm')!.getInt(name, 0);

testPass('fuse-transpose-into-gemm', {
  kind: 'cleanup',
  invalid: [
    { name: 'a transposed A', build: transposeGemm(), ops: { Gemm: 1, Transpose: 0 }, nodeCount: 1, stats: { fused: 1 }, check: (m) => expect(gemmAttr(m, 'transA')).toBe(1) },
    { name: 'a transposed B', build: transposeGemm({ slot: 1 }), ops: { Gemm: 1, Transpose: 0 }, stats: { fused: 1 }, check: (m) => expect(gemmAttr(m, 'transB')).toBe(1) },
    { name: 'a transposed B with transB set (flips it off)', build: transposeGemm({ slot: 1, transB: 1 }), ops: { Transpose: 0 }, stats: { fused: 1 }, check: (m) => expect(gemmAttr(m, 'transB')).toBe(0) },
  ],
  valid: [
    { name: 'the identity permutation', build: transposeGemm({ slot: 0, perm: [0, 1] }), diagnostic: 'no 2-D Transpose operand' },
    ...escapeCases('the Transpose output', (extra) => transposeGemm({ extra }), 'single reader'),
    {
      name: 'the same Transpose feeds A and B',
      build: () => {
        const b = new GraphBuilder();
        const t = b.node('Transpose', [b.input('a', [4, 4])], { perm: [1, 0] });
        b.output(b.node('Gemm', [t, t]));
        return b.model(13);
      },
    },
    { name: 'a Transpose of a custom domain', build: inCustomDomain(transposeGemm(), 'Transpose') },
  ],
});
