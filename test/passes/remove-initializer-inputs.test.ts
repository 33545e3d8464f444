import { expect } from 'vitest';
import { AttrType, DataType, GraphBuilder } from '../helpers/graph-builder.js';
import { testPass } from '../helpers/pass-tester.js';

// x[3] + w -> y, with w listed as a graph input when `listed` (IR < 4 style).
function model(listed: boolean, irVersion = 3) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [3]);
    const w = b.weight('w', [3]);
    if (listed) b.input(w, [3]);
    b.output(b.node('Add', [x, w]));
    const m = b.model(9);
    m.irVersion = irVersion;
    return m;
  };
}

testPass('remove-initializer-inputs', {
  kind: 'cleanup',
  invalid: [
    {
      name: 'an initializer listed as an input (IR 3)',
      build: model(true),
      stats: { inputsRemoved: 1 },
      check: (m) => {
        expect(m.graph.inputs.map((i) => i.name)).toEqual(['x']);
        expect(m.irVersion).toBe(4);
      },
    },
    { name: 'an initializer listed as an input (IR 8 keeps its version)', build: model(true, 8), stats: { inputsRemoved: 1 }, check: (m) => expect(m.irVersion).toBe(8) },
  ],
  valid: [
    { name: 'no initializer is an input', build: model(false, 4) },
    {
      name: 'a Loop body whose carried input has an initializer of the same name (subgraph inputs are positional)',
      build: () => {
        const b = new GraphBuilder();
        const body = new GraphBuilder('body', 1, b.graph);
        body.input('i', [], DataType.INT64);
        body.input('c', [], DataType.BOOL);
        body.input('v', [3]);
        body.weight('v', [3]);
        body.output(body.node('Identity', ['c'], {}, { outputs: ['c_out'] }), [], DataType.BOOL);
        body.output(body.node('Add', ['v', 'x'], {}, { outputs: ['v_out'] }), [3]);
        const x = b.input('x', [3]);
        b.output(b.node('Loop', [b.int64('trips', [2], []), '', x], { body: { name: 'body', type: AttrType.GRAPH, g: body.graph } }));
        return b.model(13);
      },
    },
  ],
});
