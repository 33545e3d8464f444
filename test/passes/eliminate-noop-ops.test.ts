import { DataType, GraphBuilder, type Attrs } from '../helpers/graph-builder.js';
import { testPass } from '../helpers/pass-tester.js';

type Extra = (b: GraphBuilder) => string[];

// x[2,3,4] -> Relu -> op(extra inputs) -> Neg -> y: the op sits between two nodes.
function around(op: string, attrs: Attrs = {}, extra: Extra = () => [], o: { xDims?: (number | string)[]; domain?: string; opset?: number } = {}) {
  return () => {
    const b = new GraphBuilder();
    const r = b.node('Relu', [b.input('x', o.xDims ?? [2, 3, 4])]);
    const mid = b.node(op, [r, ...extra(b)], attrs, { domain: o.domain });
    b.output(b.node('Neg', [mid]));
    return b.model(o.opset ?? 13);
  };
}

const removed = { stats: { removed: 1 }, nodeCount: 2 };

testPass('eliminate-noop-ops', {
  kind: 'cleanup',
  invalid: [
    { name: 'Transpose by the identity permutation', build: around('Transpose', { perm: [0, 1, 2] }), ops: { Transpose: 0 }, ...removed },
    { name: 'Cast to the type it already has', build: around('Cast', { to: DataType.FLOAT }), ops: { Cast: 0 }, ...removed },
    { name: 'Reshape to its own static shape', build: around('Reshape', {}, (b) => [b.int64('shape', [2, 3, 4])]), ops: { Reshape: 0 }, ...removed },
    { name: 'Reshape to its own shape through 0 and -1', build: around('Reshape', {}, (b) => [b.int64('shape', [0, 3, -1])]), ops: { Reshape: 0 }, ...removed },
    { name: 'Expand to its own shape', build: around('Expand', {}, (b) => [b.int64('shape', [2, 3, 4])]), ops: { Expand: 0 }, ...removed },
    { name: 'Pad by zeros', build: around('Pad', {}, (b) => [b.int64('pads', [0, 0, 0, 0, 0, 0])]), ops: { Pad: 0 }, ...removed },
    {
      name: 'Slice over the whole range',
      build: around('Slice', {}, (b) => [b.int64('starts', [0, 0]), b.int64('ends', [3, 1000]), b.int64('axes', [1, 2])]),
      ops: { Slice: 0 },
      ...removed,
    },
    { name: 'Concat of one input', build: around('Concat', { axis: 0 }), ops: { Concat: 0 }, ...removed },
    { name: 'Sum of one input', build: around('Sum'), ops: { Sum: 0 }, ...removed },
  ],
  valid: [
    { name: 'Transpose by another permutation', build: around('Transpose', { perm: [0, 2, 1] }) },
    { name: 'Cast to another type', build: around('Cast', { to: DataType.DOUBLE }) },
    { name: 'Reshape to another shape', build: around('Reshape', {}, (b) => [b.int64('shape', [6, 4])]) },
    { name: 'Reshape of a symbolic shape (not provably the same)', build: around('Reshape', {}, (b) => [b.int64('shape', [2, 3, 4])], { xDims: ['N', 3, 4] }) },
    { name: 'Pad by non-zero pads', build: around('Pad', {}, (b) => [b.int64('pads', [0, 0, 1, 0, 0, 0])]) },
    { name: 'a partial Slice', build: around('Slice', {}, (b) => [b.int64('starts', [1]), b.int64('ends', [3]), b.int64('axes', [1])]) },
    { name: 'a full Slice with step 2', build: around('Slice', {}, (b) => [b.int64('starts', [0]), b.int64('ends', [3]), b.int64('axes', [1]), b.int64('steps', [2])]) },
    { name: 'Squeeze (never a no-op here)', build: around('Squeeze', {}, (b) => [b.int64('axes', [])], { xDims: [2, 3, 4] }) },
    {
      name: 'a no-op Transpose from a graph input to a graph output',
      build: () => {
        const b = new GraphBuilder();
        b.output(b.node('Transpose', [b.input('x', [2, 3])], { perm: [0, 1] }));
        return b.model(13);
      },
      diagnostic: 'connects a graph input or output directly',
    },
    { name: 'an identity Transpose of a custom domain', build: around('Transpose', { perm: [0, 1, 2] }, () => [], { domain: 'com.example' }) },
  ],
});
