import { expect } from 'vitest';
import { GraphBuilder } from '../helpers/graph-builder.js';
import { escapeCases, inCustomDomain, testPass } from '../helpers/pass-tester.js';

interface Options {
  addendDims?: number[];
  bias?: boolean;
  convOnRight?: boolean;
  addendInput?: boolean;
  extra?: (b: GraphBuilder, conv: string) => void;
}

// x[1,3,5,5] -> Conv(w[4,3,3,3]) -> Add(addend) -> y
function convAdd(o: Options = {}) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 3, 5, 5]);
    const w = b.weight('w', [4, 3, 3, 3]);
    const conv = b.node('Conv', o.bias ? [x, w, b.weight('cb', [4])] : [x, w]);
    const dims = o.addendDims ?? [4, 1, 1];
    const addend = o.addendInput ? b.input('k', dims) : b.weight('k', dims);
    b.output(b.node('Add', o.convOnRight ? [addend, conv] : [conv, addend]));
    o.extra?.(b, conv);
    return b.model(13);
  };
}

const fused = { ops: { Conv: 1, Add: 0 }, stats: { fused: 1 } };

testPass('fuse-add-into-conv', {
  kind: 'fusion',
  invalid: [
    { name: 'Add of a [C,1,1] constant', build: convAdd(), ...fused, nodeCount: 1 },
    { name: 'Add of a [1,C,1,1] constant', build: convAdd({ addendDims: [1, 4, 1, 1] }), ...fused },
    { name: 'Add of a scalar', build: convAdd({ addendDims: [] }), ...fused },
    { name: 'the Conv on the right of the Add', build: convAdd({ convOnRight: true }), ...fused },
    { name: 'a Conv that has a bias already', build: convAdd({ bias: true }), ...fused },
    {
      name: 'a bias another Conv also reads (that Conv keeps it)',
      build: convAdd({ bias: true, extra: (b) => b.output(b.node('Conv', ['x', 'w', 'cb'])) }),
      ops: { Conv: 2, Add: 0 },
      stats: { fused: 1 },
      check: (m) => expect(m.graph.nodes.filter((n) => n.inputs[2] === 'cb')).toHaveLength(1),
    },
  ],
  valid: [
    { name: 'a [C] addend (broadcasts along the width, not the channels)', build: convAdd({ addendDims: [4] }), diagnostic: 'not a per-channel float constant' },
    { name: 'the addend is fed at run time', build: convAdd({ addendInput: true }), diagnostic: 'not a per-channel float constant' },
    { name: 'a Conv bias that is also a graph input (overridable)', build: convAdd({ bias: true, extra: (b) => b.input('cb', [4]) }), diagnostic: 'Conv bias is not a float constant' },
    ...escapeCases('the Conv output', (extra) => convAdd({ extra }), 'other readers'),
    { name: 'an Add of a custom domain', build: inCustomDomain(convAdd(), 'Add') },
  ],
});
