import { expect } from 'vitest';
import { DataType, GraphBuilder, Tensor } from '../helpers/graph-builder.js';
import { testPass } from '../helpers/pass-tester.js';

// x[3] + w1 and x[3] * w2, with w1 and w2 given by `weights`.
function twoWeights(weights: (b: GraphBuilder) => void, o: { w2Input?: boolean; w2Output?: boolean } = {}) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [3]);
    weights(b);
    if (o.w2Input) b.input('w2', [3]);
    b.output(b.node('Add', [x, 'w1']));
    b.output(b.node('Mul', [x, 'w2']));
    if (o.w2Output) b.output('w2');
    return b.model(13);
  };
}
const same = (b: GraphBuilder) => { b.weight('w1', [3], [1, 2, 3]); b.weight('w2', [3], [1, 2, 3]); };

testPass('dedupe-initializers', {
  kind: 'cleanup',
  invalid: [
    {
      name: 'two equal weights',
      build: twoWeights(same),
      stats: { merged: 1, bytesSaved: 12 },
      check: (m) => {
        expect([...m.graph.initializers.keys()]).toEqual(['w1']);
        expect(m.graph.nodes.map((n) => n.inputs[1])).toEqual(['w1', 'w1']);
      },
    },
    {
      name: 'an equal weight read inside an If body (the body is rewired)',
      build: () => {
        const b = new GraphBuilder();
        const x = b.input('x', [3]);
        same(b);
        b.output(b.node('Add', [x, 'w1']));
        b.output(b.ifCapturing(b.cond(), 'w2'));
        return b.model(13);
      },
      stats: { merged: 1, bytesSaved: 12 },
    },
  ],
  valid: [
    { name: 'equal bytes, other dims', build: twoWeights((b) => { b.weight('w1', [3], [1, 2, 3]); b.weight('w2', [1, 3], [1, 2, 3]); }) },
    {
      name: 'equal bytes, other dtype',
      build: twoWeights((b) => {
        b.weight('w1', [3], [1, 2, 3]);
        const asInt = new Int32Array(Float32Array.of(1, 2, 3).buffer);
        b.graph.initializers.set('w2', Tensor.fromTyped('w2', DataType.INT32, [3], asInt));
      }),
    },
    { name: 'different values', build: twoWeights((b) => { b.weight('w1', [3], [1, 2, 3]); b.weight('w2', [3], [1, 2, 4]); }) },
    { name: 'the duplicate is also a graph input (overridable)', build: twoWeights(same, { w2Input: true }) },
    { name: 'the duplicate is a graph output', build: twoWeights(same, { w2Output: true }) },
  ],
});
