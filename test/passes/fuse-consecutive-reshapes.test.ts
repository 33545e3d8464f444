import { GraphBuilder } from '../helpers/graph-builder.js';
import { escapeCases, inCustomDomain, testPass } from '../helpers/pass-tester.js';

type Step = (b: GraphBuilder, x: string) => string;
const reshape = (shape: number[], allowzero?: number): Step => (b, x) => b.node('Reshape', [x, b.int64(`shape${shape.join('_')}`, shape)], allowzero === undefined ? {} : { allowzero });
const flatten: Step = (b, x) => b.node('Flatten', [x], { axis: 1 });
const squeeze = (axes: number[]): Step => (b, x) => b.node('Squeeze', [x, b.int64(`sq_axes${axes.join('_')}`, axes)]);
const unsqueeze = (axes: number[]): Step => (b, x) => b.node('Unsqueeze', [x, b.int64(`unsq_axes${axes.join('_')}`, axes)]);

// x -> Relu -> inner -> outer -> Neg -> y
function chain(xDims: number[], inner: Step, outer: Step, extra?: (b: GraphBuilder, innerOut: string) => void, opset = 13) {
  return () => {
    const b = new GraphBuilder();
    const r = b.node('Relu', [b.input('x', xDims)]);
    const mid = inner(b, r);
    b.output(b.node('Neg', [outer(b, mid)]));
    extra?.(b, mid);
    return b.model(opset);
  };
}

testPass('fuse-consecutive-reshapes', {
  kind: 'cleanup',
  invalid: [
    { name: 'Reshape of a Reshape', build: chain([2, 3, 4], reshape([6, 4]), reshape([4, 6])), ops: { Reshape: 1 }, nodeCount: 3, stats: { fused: 1 } },
    { name: 'Reshape of a Flatten', build: chain([2, 3, 4], flatten, reshape([3, 8])), ops: { Reshape: 1, Flatten: 0 }, stats: { fused: 1 } },
    { name: 'Reshape with allowzero and a literal 0', build: chain([2, 3, 0], reshape([6, 0], 1), reshape([0, 6], 1), undefined, 14), ops: { Reshape: 1 }, stats: { fused: 1 } },
    { name: 'Unsqueeze of a Squeeze on the same axes', build: chain([2, 1, 4], squeeze([1]), unsqueeze([1])), ops: { Squeeze: 0, Unsqueeze: 0 }, nodeCount: 2, stats: { fused: 1 } },
    {
      name: 'Unsqueeze of a Squeeze from a graph input to a graph output',
      build: () => {
        const b = new GraphBuilder();
        b.output(unsqueeze([1])(b, squeeze([1])(b, b.input('x', [2, 1, 4]))));
        return b.model(13);
      },
      ops: { Squeeze: 0, Unsqueeze: 0 },
      stats: { fused: 1 },
    },
  ],
  valid: [
    { name: 'an outer shape that copies input dims (0)', build: chain([2, 3, 4], reshape([6, 4]), reshape([0, 24])), diagnostic: 'copies input dims (0)' },
    { name: 'Flatten after a Reshape', build: chain([2, 3, 4], reshape([6, 4]), flatten), diagnostic: 'Flatten after reshape kept' },
    { name: 'Unsqueeze of a Squeeze on other axes', build: chain([2, 1, 4, 1], squeeze([1]), unsqueeze([3])), diagnostic: 'axes differ' },
    { name: 'negative axes (not provably the same)', build: chain([2, 1, 4], squeeze([-2]), unsqueeze([1])), diagnostic: 'axes differ' },
    ...escapeCases('the inner Reshape', (extra) => chain([2, 3, 4], reshape([6, 4]), reshape([4, 6]), extra), 'other readers'),
    {
      name: 'an outer shape fed at run time',
      build: () => {
        const b = new GraphBuilder();
        const r = b.node('Relu', [b.input('x', [2, 3, 4])]);
        b.output(b.node('Reshape', [b.node('Reshape', [r, b.int64('s1', [6, 4])]), b.input('s2', [2], 7)]));
        return b.model(13);
      },
      diagnostic: 'outer shape is not constant',
    },
    { name: 'an inner Reshape of a custom domain', build: inCustomDomain(chain([2, 3, 4], reshape([6, 4]), reshape([4, 6])), 'Reshape'), diagnostic: 'not a reshaping op' },
  ],
});
