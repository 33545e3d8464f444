import { expect } from 'vitest';
import { GraphBuilder, type Attrs } from '../helpers/graph-builder.js';
import { escapeCases, inCustomDomain, testPass } from '../helpers/pass-tester.js';

// x[2,3,4] -> Relu -> Transpose(p1) -> Transpose(p2) -> Neg -> y
function twoTransposes(p1: Attrs, p2: Attrs, extra?: (b: GraphBuilder, first: string) => void) {
  return () => {
    const b = new GraphBuilder();
    const r = b.node('Relu', [b.input('x', [2, 3, 4])]);
    const first = b.node('Transpose', [r], p1);
    b.output(b.node('Neg', [b.node('Transpose', [first], p2)]));
    extra?.(b, first);
    return b.model(13);
  };
}

testPass('fuse-consecutive-transposes', {
  kind: 'cleanup',
  invalid: [
    {
      name: 'two permutations composed into one',
      build: twoTransposes({ perm: [1, 0, 2] }, { perm: [0, 2, 1] }),
      ops: { Transpose: 1 },
      nodeCount: 3,
      stats: { fused: 1 },
      check: (m) => expect(m.graph.nodes.find((n) => n.opType === 'Transpose')!.getInts('perm')).toEqual([1, 2, 0]),
    },
    { name: 'two permutations that cancel', build: twoTransposes({ perm: [1, 2, 0] }, { perm: [2, 0, 1] }), ops: { Transpose: 0 }, nodeCount: 2, stats: { fused: 1 } },
  ],
  valid: [
    ...escapeCases('the inner Transpose', (extra) => twoTransposes({ perm: [1, 0, 2] }, { perm: [1, 0, 2] }, extra), 'other readers'),
    { name: 'a permutation left to its default (reverse)', build: twoTransposes({}, { perm: [1, 0, 2] }), diagnostic: 'permutation not explicit' },
    { name: 'an inner Transpose of a custom domain', build: inCustomDomain(twoTransposes({ perm: [1, 0, 2] }, { perm: [1, 0, 2] }), 'Transpose'), diagnostic: 'input is not a Transpose' },
  ],
});
