import { GraphBuilder, type Attrs } from '../helpers/graph-builder.js';
import { testPass } from '../helpers/pass-tester.js';

// Two nodes of `op` over the same inputs, each read by its own Neg.
function twins(op: string, attrs: [Attrs, Attrs] = [{}, {}], o: { domain?: string; secondIsOutput?: boolean; inputs?: (b: GraphBuilder) => string[] } = {}) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3]);
    const ins = o.inputs?.(b) ?? [x];
    const first = b.node(op, ins, attrs[0], { domain: o.domain });
    const second = b.node(op, ins, attrs[1], { domain: o.domain });
    b.output(b.node('Neg', [first]));
    if (o.secondIsOutput) b.output(second);
    else b.output(b.node('Neg', [second]));
    return b.model(13, o.domain ? [{ domain: o.domain, version: 1 }] : []);
  };
}

testPass('eliminate-common-subexpressions', {
  kind: 'cleanup',
  invalid: [
    // The two Negs then read the same value and merge in the next round.
    { name: 'two Relu of the same input', build: twins('Relu'), ops: { Relu: 1 }, stats: { merged: 1 }, notFixedPoint: true },
    { name: 'two Softmax with the same attributes', build: twins('Softmax', [{ axis: 1 }, { axis: 1 }]), ops: { Softmax: 1 }, stats: { merged: 1 }, notFixedPoint: true },
    { name: 'two Add of x and a weight', build: twins('Add', undefined, { inputs: (b) => ['x', b.weight('w', [3])] }), ops: { Add: 1 }, stats: { merged: 1 }, notFixedPoint: true },
    {
      name: 'a chain merged in one run (the readers of a merged node compare equal next)',
      build: () => {
        const b = new GraphBuilder();
        const x = b.input('x', [2, 3]);
        b.output(b.node('Neg', [b.node('Relu', [x])]), undefined);
        b.output(b.node('Exp', [b.node('Relu', [x])]));
        return b.model(13);
      },
      ops: { Relu: 1, Neg: 1, Exp: 1 },
      stats: { merged: 1 },
    },
  ],
  valid: [
    { name: 'different attributes', build: twins('Softmax', [{ axis: 1 }, { axis: 0 }]) },
    { name: 'a nondeterministic op', build: twins('RandomUniformLike') },
    { name: 'the duplicate is a graph output', build: twins('Relu', undefined, { secondIsOutput: true }), diagnostic: 'output is a graph output' },
    { name: 'ops of a custom domain (may have state or randomness)', build: twins('Relu', undefined, { domain: 'com.example' }) },
    {
      name: 'two If nodes with the same condition',
      build: () => {
        const b = new GraphBuilder();
        const x = b.input('x', [2, 3]);
        const cond = b.cond();
        b.output(b.ifCapturing(cond, x));
        b.output(b.ifCapturing(cond, x));
        return b.model(13);
      },
    },
  ],
});
