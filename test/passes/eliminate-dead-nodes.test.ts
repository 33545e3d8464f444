import { expect } from 'vitest';
import { GraphBuilder } from '../helpers/graph-builder.js';
import { testPass } from '../helpers/pass-tester.js';

// x -> Relu -> y, plus whatever `extra` adds.
function graph(extra: (b: GraphBuilder) => void) {
  return () => {
    const b = new GraphBuilder();
    b.output(b.node('Relu', [b.input('x', [2, 3])]));
    extra(b);
    return b.model(13);
  };
}

testPass('eliminate-dead-nodes', {
  kind: 'cleanup',
  invalid: [
    {
      name: 'a chain nobody reads, and the weight only it reads',
      build: graph((b) => b.node('Neg', [b.node('Add', ['x', b.weight('w', [2, 3])])])),
      nodeCount: 1,
      stats: { nodesRemoved: 2, initializersRemoved: 1, bytesSaved: 24, valueInfoRemoved: 0 },
    },
    {
      name: 'an initializer no node reads',
      build: graph((b) => b.weight('unused', [4])),
      stats: { nodesRemoved: 0, initializersRemoved: 1, bytesSaved: 16, valueInfoRemoved: 0 },
      check: (m) => expect(m.graph.initializers.size).toBe(0),
    },
    {
      name: 'value_info of a value that no longer exists',
      build: graph((b) => b.graph.valueInfo.push({ name: 'gone' })),
      stats: { nodesRemoved: 0, valueInfoRemoved: 1 },
    },
    {
      name: 'a dead node inside an If body',
      build: () => {
        const b = new GraphBuilder();
        const r = b.node('Relu', [b.input('x', [2, 3])]);
        b.output(b.ifNode(b.cond(), (t) => { t.node('Neg', [r], {}, { outputs: ['dead'] }); return t.node('Identity', [r], {}, { outputs: ['y_then'] }); },
          (e) => e.node('Neg', [r], {}, { outputs: ['y_else'] })));
        return b.model(13);
      },
      ops: { Neg: 1 },
      stats: { nodesRemoved: 1, valueInfoRemoved: 0 },
    },
  ],
  valid: [
    { name: 'every node feeds an output', build: graph((b) => b.output(b.node('Neg', ['x']))) },
    { name: 'a value read only by an If body', build: graph((b) => b.output(b.ifCapturing(b.cond(), b.node('Neg', ['x'])))) },
    { name: 'a value read only by a Loop body', build: graph((b) => b.output(b.loopCapturing(b.node('Neg', ['x'])))) },
    { name: 'a weight read only inside an If body', build: graph((b) => b.output(b.ifCapturing(b.cond(), b.weight('w', [2, 3])))) },
    { name: 'an initializer that is also a graph input (a default the caller may override)', build: graph((b) => { b.weight('w', [3]); b.input('w', [3]); }) },
  ],
});
