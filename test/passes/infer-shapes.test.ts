import { expect } from 'vitest';
import { GraphBuilder } from '../helpers/graph-builder.js';
import { testPass } from '../helpers/pass-tester.js';
import { shapeOf } from '../../src/ir/graph.js';

// x['N',3,8,8] -> Conv(w[4,3,3,3]) -> Relu -> Flatten -> y
function convNet(declared = false) {
  return () => {
    const b = new GraphBuilder();
    const conv = b.node('Conv', [b.input('x', ['N', 3, 8, 8]), b.weight('w', [4, 3, 3, 3])]);
    const relu = b.node('Relu', [conv]);
    b.output(b.node('Flatten', [relu]));
    if (declared) {
      b.valueInfo(conv, ['N', 4, 6, 6]);
      b.valueInfo(relu, ['N', 4, 6, 6]);
    }
    return b.model(13);
  };
}

testPass('infer-shapes', {
  kind: 'cleanup',
  invalid: [
    {
      name: 'intermediate values of a small conv net',
      build: convNet(),
      stats: { valueInfoAdded: 2 },
      nodeCount: 3,
      check: (m) => expect(m.graph.valueInfo.map((v) => [v.name, shapeOf(v)])).toEqual([['conv', ['N', 4, 6, 6]], ['relu', ['N', 4, 6, 6]]]),
    },
  ],
  valid: [
    { name: 'every intermediate already declared', build: convNet(true) },
    {
      name: 'an op it cannot infer (no guessed shape)',
      build: () => {
        const b = new GraphBuilder();
        b.output(b.node('Neg', [b.node('NonMaxSuppression', [b.input('boxes', [1, 4, 4]), b.input('scores', [1, 1, 4])])], {}));
        return b.model(13);
      },
    },
    {
      name: 'a node of a custom domain',
      build: () => {
        const b = new GraphBuilder();
        b.output(b.node('Relu', [b.node('Relu', [b.input('x', [2, 3])], {}, { domain: 'com.example' })]));
        return b.model(13);
      },
    },
  ],
});
