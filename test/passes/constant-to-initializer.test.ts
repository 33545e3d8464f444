import { expect } from 'vitest';
import { GraphBuilder, Tensor, attr, type Attribute } from '../helpers/graph-builder.js';
import { testPass } from '../helpers/pass-tester.js';

// x[3] + Constant(value) -> y
function withConstant(value: Attribute, o: { domain?: string; constIsOutput?: boolean; opset?: number; irVersion?: number } = {}) {
  return () => {
    const b = new GraphBuilder();
    const c = b.node('Constant', [], { [value.name]: value }, { domain: o.domain });
    b.output(b.node('Add', [b.input('x', [3]), c]));
    if (o.constIsOutput) b.output(c);
    const m = b.model(o.opset ?? 13);
    if (o.irVersion) m.irVersion = o.irVersion;
    return m;
  };
}
const t3 = Tensor.fromFloat32('', [3], Float32Array.of(1, 2, 3));
const converted = { ops: { Constant: 0 }, nodeCount: 1, stats: { converted: 1 } };

// x[3] -> If whose then-branch adds a Constant to x.
function constantInIf(irVersion?: number) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [3]);
    b.output(b.ifNode(b.cond(), (t) => t.node('Add', [x, t.node('Constant', [], { value: attr.tensor('value', t3) })], {}, { outputs: ['y_then'] }),
      (e) => e.node('Neg', [x], {}, { outputs: ['y_else'] })));
    const m = b.model(irVersion ? 9 : 13);
    if (irVersion) m.irVersion = irVersion;
    return m;
  };
}

testPass('constant-to-initializer', {
  kind: 'cleanup',
  invalid: [
    { name: 'a tensor value', build: withConstant(attr.tensor('value', t3)), ...converted, check: (m) => expect(m.graph.initializers.has('constant')).toBe(true) },
    { name: 'value_float', build: withConstant(attr.float('value_float', 2.5), { opset: 13 }), ...converted },
    { name: 'value_floats', build: withConstant(attr.floats('value_floats', [1, 2, 3])), ...converted },
    {
      name: 'IR 3: the new initializer is listed as an input too',
      build: withConstant(attr.tensor('value', t3), { irVersion: 3, opset: 9 }),
      ...converted,
      check: (m) => expect(m.graph.inputs.map((i) => i.name)).toEqual(['x', 'constant']),
    },
    { name: 'a Constant inside an If body', build: constantInIf(), ops: { Constant: 0 }, stats: { converted: 1 } },
  ],
  valid: [
    { name: 'a Constant that is a graph output', build: withConstant(attr.tensor('value', t3), { constIsOutput: true }), diagnostic: 'is a graph output' },
    { name: 'a value kind it does not convert (value_string)', build: withConstant(attr.string('value_string', 'a')), diagnostic: 'sparse or unusual value' },
    { name: 'a Constant of a custom domain', build: withConstant(attr.tensor('value', t3), { domain: 'com.example' }) },
    { name: 'IR 3: a Constant inside a subgraph (subgraph inputs are positional)', build: constantInIf(3) },
  ],
});
