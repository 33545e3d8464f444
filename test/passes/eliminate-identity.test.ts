import { expect } from 'vitest';
import { DataType, GraphBuilder } from '../helpers/graph-builder.js';
import { testPass } from '../helpers/pass-tester.js';

// x -> Relu -> Identity -> Neg -> y
function chain(o: { op?: string; domain?: string; extra?: (b: GraphBuilder, id: string) => void } = {}) {
  return () => {
    const b = new GraphBuilder();
    const r = b.node('Relu', [b.input('x', [2, 3])]);
    const id = b.node(o.op ?? 'Identity', [r], {}, { domain: o.domain });
    b.output(b.node('Neg', [id]));
    o.extra?.(b, id);
    return b.model(13);
  };
}

function dropout(o: { training?: boolean; maskUsed?: boolean } = {}) {
  return () => {
    const b = new GraphBuilder();
    const r = b.node('Relu', [b.input('x', [2, 3])]);
    const ins = o.training ? [r, b.scalar('ratio', 0.5), b.input('training', [], DataType.BOOL)] : [r];
    const [d, mask] = b.nodeOutputs('Dropout', ins, {}, { outputs: 2 });
    b.output(b.node('Neg', [d!]));
    if (o.maskUsed) b.output(mask!, undefined, DataType.BOOL);
    return b.model(13);
  };
}

testPass('eliminate-identity', {
  kind: 'cleanup',
  invalid: [
    { name: 'an Identity between two nodes', build: chain(), ops: { Identity: 0 }, nodeCount: 2, stats: { removed: 1 } },
    {
      name: 'an Identity producing a graph output (its producer takes the name)',
      build: () => {
        const b = new GraphBuilder();
        b.output(b.node('Identity', [b.node('Relu', [b.input('x', [2, 3])])]));
        return b.model(13);
      },
      ops: { Identity: 0, Relu: 1 },
      stats: { removed: 1 },
      check: (m) => expect(m.graph.nodes[0]!.outputs).toEqual(['identity']),
    },
    {
      name: 'an Identity whose output an If body captures (the body is rewired)',
      build: chain({ extra: (b, id) => b.output(b.ifCapturing(b.cond(), id)) }),
      ops: { Identity: 1 }, // the If's then-branch Identity reads an outer value and stays
      stats: { removed: 1 },
      check: (m) => expect([...m.graph.nodes.find((n) => n.opType === 'If')!.subgraphs()[0]!.capturedNames()]).toEqual(['relu']),
    },
    {
      name: 'an Identity whose output a Loop body captures (the body is rewired)',
      build: chain({ extra: (b, id) => b.output(b.loopCapturing(id)) }),
      stats: { removed: 1 },
      check: (m) => expect([...m.graph.nodes.find((n) => n.opType === 'Loop')!.subgraphs()[0]!.capturedNames()]).toEqual(['relu']),
    },
    {
      name: 'an Identity inside an If body',
      build: () => {
        const b = new GraphBuilder();
        const r = b.node('Relu', [b.input('x', [2, 3])]);
        b.output(b.ifNode(b.cond(), (t) => t.node('Neg', [t.node('Identity', [r], {}, { outputs: ['mid'] })], {}, { outputs: ['y_then'] }),
          (e) => e.node('Neg', [r], {}, { outputs: ['y_else'] })));
        return b.model(13);
      },
      stats: { removed: 1 },
      ops: { Identity: 0 },
    },
    { name: 'a Dropout whose mask nobody reads', build: dropout(), ops: { Dropout: 0 }, stats: { removed: 1 } },
  ],
  valid: [
    {
      name: 'an Identity from a graph input straight to a graph output',
      build: () => {
        const b = new GraphBuilder();
        b.output(b.node('Identity', [b.input('x', [2, 3])]));
        return b.model(13);
      },
      diagnostic: 'connects a graph input or output directly',
    },
    {
      name: 'an Identity from a value that is itself a graph output',
      build: () => {
        const b = new GraphBuilder();
        const r = b.output(b.node('Relu', [b.input('x', [2, 3])]));
        b.output(b.node('Identity', [r]));
        return b.model(13);
      },
      diagnostic: 'connects a graph input or output directly',
    },
    { name: 'a Dropout in training mode', build: dropout({ training: true }), diagnostic: 'training_mode input given' },
    { name: 'a Dropout whose mask is a graph output', build: dropout({ maskUsed: true }), diagnostic: 'mask is used' },
    { name: 'an Identity of a custom domain', build: chain({ domain: 'com.example' }) },
  ],
});
