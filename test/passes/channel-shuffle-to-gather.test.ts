import { describe, expect, it } from 'vitest';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { runOnce } from '../../src/runtime/ort.js';
import { GraphBuilder } from '../helpers/graph-builder.js';
import { escapeCases, inCustomDomain, testPass } from '../helpers/pass-tester.js';
import type { Escape } from '../helpers/pass-tester.js';

// x [1, 12, 5, 5] -> Relu -> Reshape split -> Transpose perm -> Reshape merge -> Neg -> y
function shuffle(split: number[], merge: number[], options: { perm?: number[]; xDims?: (number | string)[]; extraSplit?: Escape; extraTranspose?: Escape } = {}) {
  return () => {
    const b = new GraphBuilder();
    const r = b.node('Relu', [b.input('x', options.xDims ?? [1, 12, 5, 5])]);
    const s = b.node('Reshape', [r, b.int64('split', split)]);
    const t = b.node('Transpose', [s], { perm: options.perm ?? [0, 2, 1, 3, 4] });
    b.output(b.node('Neg', [b.node('Reshape', [t, b.int64('merge', merge)])]));
    options.extraSplit?.(b, s);
    options.extraTranspose?.(b, t);
    return b.model(13);
  };
}

const gone = { Gather: 1, Reshape: 0, Transpose: 0 };

testPass('channel-shuffle-to-gather', {
  kind: 'cleanup',
  invalid: [
    { name: '3 groups of 4 channels', build: shuffle([1, 3, 4, 5, 5], [1, 12, 5, 5]), ops: gone, stats: { rewritten: 1 } },
    { name: '4 groups of 3, batch copied (0) and channels inferred (-1)', build: shuffle([0, 4, 3, 5, 5], [0, -1, 5, 5]), ops: gone, stats: { rewritten: 1 } },
    { name: 'batch inferred (-1), as PyTorch exports view(b, g, c // g, h, w)', build: shuffle([-1, 2, 6, 5, 5], [1, 12, 5, 5]), ops: gone, stats: { rewritten: 1 } },
    { name: 'a symbolic batch', build: shuffle([0, 3, 4, 5, 5], [0, 12, 5, 5], { xDims: ['n', 12, 5, 5] }), ops: gone, stats: { rewritten: 1 } },
  ],
  valid: [
    { name: 'another permutation (a spatial transpose)', build: shuffle([1, 3, 4, 5, 5], [1, 12, 5, 5], { perm: [0, 1, 2, 4, 3] }), diagnostic: 'not read by one Transpose [0,2,1,3,4]' },
    { name: 'a first reshape that splits the map, not the channels', build: shuffle([1, 12, 5, 5, 1], [1, 12, 5, 5]), diagnostic: 'does not split the channels' },
    { name: 'a second reshape that does not merge the channels back', build: shuffle([1, 3, 4, 5, 5], [1, 4, 15, 5]), diagnostic: 'does not merge the channels back' },
    { name: 'one group: the identity permutation', build: shuffle([1, 1, 12, 5, 5], [1, 12, 5, 5]), diagnostic: 'nothing is shuffled' },
    { name: 'channels not known', build: shuffle([1, 3, 4, 5, 5], [1, 12, 5, 5], { xDims: [1, 'c', 5, 5] }), diagnostic: 'channels or map size not known' },
    ...escapeCases('the split', (extra) => shuffle([1, 3, 4, 5, 5], [1, 12, 5, 5], { extraSplit: extra }), 'not read by one Transpose'),
    ...escapeCases('the transposed value', (extra) => shuffle([1, 3, 4, 5, 5], [1, 12, 5, 5], { extraTranspose: extra }), 'not read by one Reshape'),
    { name: 'a Transpose of a custom domain', build: inCustomDomain(shuffle([1, 3, 4, 5, 5], [1, 12, 5, 5]), 'Transpose'), diagnostic: 'not read by one Transpose' },
  ],
});

/** The default pipeline leaves Relu -> Gather -> Neg of the shuffle `b` built, and the same outputs at batch 2. */
async function expectOneGather(b: GraphBuilder): Promise<void> {
  const model = b.model(13);
  const before = cloneModel(model);
  await optimizeModel(model);
  expect(model.graph.nodes.map((n) => n.opType)).toEqual(['Relu', 'Gather', 'Neg']);
  const feeds = { x: { type: 'float32', dims: [2, 12, 5, 5], data: Float32Array.from({ length: 600 }, (_, i) => Math.sin(i)) } };
  const [ref, got] = [await runOnce(serializeModel(before), feeds), await runOnce(serializeModel(model), feeds)];
  expect(Array.from(Object.values(got)[0]!.data as Float32Array)).toEqual(Array.from(Object.values(ref)[0]!.data as Float32Array));
}

describe('in the default pipeline', () => {
  it("torchvision's channel_shuffle, every size read from x (b, c, h, w = x.size(); view(b, g, c // g, h, w), transpose(1, 2), view(b, -1, h, w)), becomes one Gather", async () => {
    const b = new GraphBuilder('torchvision-shuffle');
    const x = b.node('Relu', [b.input('x', ['batch', 12, 5, 5])]);
    const shape = b.node('Shape', [x]);
    const size = (i: number) => b.node('Unsqueeze', [b.node('Gather', [shape, b.int64(`i${i}`, [i], [])], { axis: 0 }), b.int64(`ax${i}`, [0])]);
    const perGroup = b.node('Unsqueeze', [b.node('Div', [b.node('Gather', [shape, b.int64('c', [1], [])], { axis: 0 }), b.int64('groups', [3], [])]), b.int64('axg', [0])]);
    const split = b.node('Reshape', [x, b.node('Concat', [size(0), b.int64('g', [3]), perGroup, size(2), size(3)], { axis: 0 })]);
    const t = b.node('Transpose', [split], { perm: [0, 2, 1, 3, 4] });
    b.output(b.node('Neg', [b.node('Reshape', [t, b.node('Concat', [size(0), b.int64('minus1', [-1]), size(2), size(3)], { axis: 0 })])]));
    await expectOneGather(b);
  });

  it("PyTorch's shuffle with a dynamic batch (view(x.size(0), g, c // g, h, w), transpose(1, 2), view(x.size(0), -1, h, w)) becomes one Gather", async () => {
    const b = new GraphBuilder('torch-shuffle');
    const x = b.node('Relu', [b.input('x', ['batch', 12, 5, 5])]);
    const size0 = b.node('Unsqueeze', [b.node('Gather', [b.node('Shape', [x]), b.int64('zero', [0], [])], { axis: 0 }), b.int64('ax0', [0])]);
    const split = b.node('Reshape', [x, b.node('Concat', [size0, b.int64('rest1', [3, 4, 5, 5])], { axis: 0 })]);
    const t = b.node('Transpose', [split], { perm: [0, 2, 1, 3, 4] });
    b.output(b.node('Neg', [b.node('Reshape', [t, b.node('Concat', [size0, b.int64('rest2', [-1, 5, 5])], { axis: 0 })])]));
    await expectOneGather(b);
  });
});
