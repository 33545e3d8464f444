import { describe, expect, it } from 'vitest';
import { Graph, Model, Node, attr, tensorType, type Attribute, type NodeInit } from '../../src/ir/graph.js';
import { DataType } from '../../src/ir/dtype.js';
import { Tensor } from '../../src/ir/tensor.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { tryConvertOpset } from '../../src/convert/opset/index.js';
import type { HostTensor } from '../../src/runtime/ort.js';
import { seededRandom } from '../helpers/feeds.js';
import { tryRun } from '../helpers/run.js';
import { allcloseMismatch } from './allclose.js';

// One graph per change the backend suite does not exercise (it has no opset 7-8 Upsample,
// no legacy broadcast with an axis ...). Each case is built at its old opset and raised;
// where onnxruntime runs the old form the outputs must agree, else a hand-computed
// expectation is the judge. Shaped like a rule tester: what converts, what is refused.
type In = [name: string, dims: number[], elemType?: number];
interface Case {
  name: string;
  opset: number;
  inputs: In[];
  nodes: NodeInit[];
  outputs: string[];
  initializers?: Tensor[];
  target?: number;
  /** Op types expected after conversion. */
  ops?: string[];
  /** The last op after conversion (for rewrites too long to list). */
  lastOp?: string;
  /** Feed values instead of seeded ones. */
  feeds?: Record<string, Float32Array>;
  /** For old forms onnxruntime cannot run: the expected first output from the feeds. */
  expect?: (feeds: Record<string, Float32Array>) => Float32Array;
}

const ints = (name: string, v: number[]) => Tensor.fromTyped(name, DataType.INT64, [v.length], BigInt64Array.from(v.map(BigInt)));
const n = (opType: string, inputs: string[], outputs: string[], attributes: Attribute[] = []): NodeInit => ({ opType, inputs, outputs, attributes, name: outputs[0] });

function build(c: Case): Model {
  const g = new Graph(c.name);
  for (const [name, dims, t] of c.inputs) g.inputs.push({ name, type: tensorType(t ?? DataType.FLOAT, dims) });
  for (const t of c.initializers ?? []) g.initializers.set(t.name, t);
  g.nodes = c.nodes.map((x) => new Node(x));
  g.outputs = c.outputs.map((name) => ({ name }));
  const m = new Model(g);
  m.irVersion = c.opset < 9 ? 3 : 5;
  m.opsetImport = [{ domain: '', version: c.opset }];
  return m;
}

function feedsFor(c: Case): Record<string, HostTensor> {
  const rand = seededRandom(3);
  const values = (name: string, dims: number[]) => c.feeds?.[name] ?? Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() * 4 - 2);
  return Object.fromEntries(c.inputs.map(([name, dims]) => [name, { type: 'float32', dims, data: values(name, dims) }]));
}

const converts: Case[] = [
  { name: 'Upsample-7 nearest (scales attribute)', opset: 7, inputs: [['x', [1, 2, 3, 4]]], nodes: [n('Upsample', ['x'], ['y'], [attr.floats('scales', [1, 1, 2, 3])])], outputs: ['y'], ops: ['Resize'] },
  { name: 'Upsample-8 linear', opset: 8, inputs: [['x', [1, 2, 3, 4]]], nodes: [n('Upsample', ['x'], ['y'], [attr.string('mode', 'linear'), attr.floats('scales', [1, 1, 2, 2])])], outputs: ['y'], ops: ['Resize'] },
  { name: 'Resize-10 nearest downsampling (old rounding: ceil)', opset: 10, inputs: [['x', [1, 1, 6, 7]]], initializers: [Tensor.fromFloat32('s', [4], Float32Array.of(1, 1, 0.5, 0.6))], nodes: [n('Resize', ['x', 's'], ['y'])], outputs: ['y'], ops: ['Resize'] },
  { name: 'Resize-10 linear downsampling', opset: 10, inputs: [['x', [1, 1, 6, 7]]], initializers: [Tensor.fromFloat32('s', [4], Float32Array.of(1, 1, 0.5, 0.6))], nodes: [n('Resize', ['x', 's'], ['y'], [attr.string('mode', 'linear')])], outputs: ['y'], ops: ['Resize'] },
  { name: 'Resize-10 nearest that upsamples one axis and downsamples another (indices gathered)', opset: 10, inputs: [['x', [1, 2, 4, 5]]],
    initializers: [Tensor.fromFloat32('s', [4], Float32Array.of(1, 1, 2.5, 0.6))], nodes: [n('Resize', ['x', 's'], ['y'])], outputs: ['y'], lastOp: 'Gather' },
  ...[[1, 1, 2, 3], [1, 1, 0.5, 0.7], [1, 1, 1.5, 0.4]].map((scales): Case => ({
    name: `Resize-10 nearest with run-time scales ${scales.join(',')}`, opset: 10, inputs: [['x', [1, 2, 5, 6]], ['s', [4]]],
    nodes: [n('Resize', ['x', 's'], ['y'])], outputs: ['y'], feeds: { s: Float32Array.from(scales) }, lastOp: 'Gather',
  })),
  { name: 'TopK-9 (k attribute)', opset: 9, inputs: [['x', [3, 5]]], nodes: [n('TopK', ['x'], ['v', 'i'], [attr.int('k', 2)])], outputs: ['v', 'i'] },
  { name: 'Dropout-9 with an unread mask', opset: 9, inputs: [['x', [2, 3]]], nodes: [n('Dropout', ['x'], ['d', 'mask'], [attr.float('ratio', 0.3)]), n('Relu', ['d'], ['y'])], outputs: ['y'], ops: ['Dropout', 'Relu'] },
  { name: 'Hardmax-11 over axis 1 of a rank-3 input (old 2-D coercion)', opset: 11, inputs: [['x', [2, 3, 4]]], nodes: [n('Hardmax', ['x'], ['y'], [attr.int('axis', 1)])], outputs: ['y'], ops: ['Flatten', 'Shape', 'Hardmax', 'Reshape'] },
  { name: 'Softmax-12 on the last axis stays one node', opset: 12, inputs: [['x', [2, 3, 4]]], nodes: [n('Softmax', ['x'], ['y'], [attr.int('axis', 2)])], outputs: ['y'], ops: ['Softmax'] },
  { name: 'BatchNormalization-7 spatial=0 (per-element statistics)', opset: 7, inputs: [['x', [2, 3, 2]]],
    initializers: ['scale', 'bias', 'mean', 'var'].map((k, j) => Tensor.fromFloat32(k, [3, 2], Float32Array.from({ length: 6 }, (_, i) => (k === 'var' ? 0.5 + i : i * 0.3 - j)))),
    nodes: [n('BatchNormalization', ['x', 'scale', 'bias', 'mean', 'var'], ['y'], [attr.int('spatial', 0)])], outputs: ['y'], ops: ['Sub', 'Add', 'Sqrt', 'Div', 'Mul', 'Add'] },
  { name: 'Clip-6 with only a lower bound', opset: 6, inputs: [['x', [4, 3]]], nodes: [n('Clip', ['x'], ['y'], [attr.float('min', -0.5)])], outputs: ['y'],
    expect: (f) => f.x!.map((v) => Math.max(v, -0.5)) },
  { name: 'Pad-10 with a fill value', opset: 10, inputs: [['x', [2, 3]]], nodes: [n('Pad', ['x'], ['y'], [attr.ints('pads', [0, 1, 1, 0]), attr.float('value', 1.5)])], outputs: ['y'] },
  { name: 'Split-13 equal parts gets num_outputs at 18', opset: 13, inputs: [['x', [4, 6]]], nodes: [n('Split', ['x'], ['a', 'b', 'c'], [attr.int('axis', 1)])], outputs: ['a', 'b', 'c'] },
  { name: 'RoiAlign-10 keeps its output_half_pixel coordinates', opset: 10, inputs: [['x', [1, 1, 6, 6]]],
    initializers: [Tensor.fromFloat32('rois', [1, 4], Float32Array.of(0.5, 1, 4.2, 5)), Tensor.fromTyped('idx', DataType.INT64, [1], BigInt64Array.of(0n))],
    nodes: [n('RoiAlign', ['x', 'rois', 'idx'], ['y'], [attr.int('output_height', 2), attr.int('output_width', 2)])], outputs: ['y'] },
  { name: 'Add-6 broadcasting B at axis 1 (Reshape adds its trailing 1-dims)', opset: 6, inputs: [['a', [2, 3, 4, 2]], ['b', [3, 4]]],
    nodes: [n('Add', ['a', 'b'], ['y'], [attr.int('broadcast', 1), attr.int('axis', 1)])], outputs: ['y'], ops: ['Reshape', 'Add'],
    expect: (f) => f.a!.map((v, i) => v + f.b![Math.floor(i / 2) % 12]!) },
  { name: 'Concat-3 without axis (the old default 1)', opset: 3, inputs: [['a', [2, 1]], ['b', [2, 2]]], nodes: [n('Concat', ['a', 'b'], ['y'])], outputs: ['y'],
    expect: (f) => Float32Array.of(f.a![0]!, f.b![0]!, f.b![1]!, f.a![1]!, f.b![2]!, f.b![3]!) },
  { name: 'Reshape-4 with a shape attribute', opset: 4, inputs: [['x', [2, 3]]], nodes: [n('Reshape', ['x'], ['y'], [attr.ints('shape', [3, 2])])], outputs: ['y'], expect: (f) => f.x! },
  { name: 'GroupNormalization-18 (per-group scale and bias become per-channel at 21)', opset: 18, inputs: [['x', [2, 6, 3]]],
    initializers: [Tensor.fromFloat32('gs', [3], Float32Array.of(1, -2, 0.5)), Tensor.fromFloat32('gb', [3], Float32Array.of(0.1, 0, -1))],
    nodes: [n('GroupNormalization', ['x', 'gs', 'gb'], ['y'], [attr.int('num_groups', 3)])], outputs: ['y'], ops: ['GroupNormalization'] },
  ...([
    ['Affine', [attr.float('alpha', 2), attr.float('beta', -0.5)], (v: number) => 2 * v - 0.5],
    ['Scale', [attr.float('scale', 3)], (v: number) => 3 * v],
    ['ScaledTanh', [attr.float('alpha', 1.5), attr.float('beta', 0.7)], (v: number) => 1.5 * Math.tanh(0.7 * v)],
    ['ParametricSoftplus', [attr.float('alpha', 0.8), attr.float('beta', 1.3)], (v: number) => 0.8 * Math.log1p(Math.exp(1.3 * v))],
  ] as const).map(([op, attributes, f]): Case => ({
    name: `${op}-8 (experimental, removed at 10)`, opset: 8, inputs: [['x', [2, 5]]], nodes: [n(op, ['x'], ['y'], [...attributes])], outputs: ['y'],
    expect: (feeds) => feeds.x!.map(f),
  })),
  { name: 'ImageScaler-8 (experimental, removed at 10)', opset: 8, inputs: [['x', [1, 2, 2, 2]]], nodes: [n('ImageScaler', ['x'], ['y'], [attr.float('scale', 2), attr.floats('bias', [1, -1])])], outputs: ['y'], ops: ['Mul', 'Add'],
    expect: (f) => f.x!.map((v, i) => v * 2 + (i < 4 ? 1 : -1)) },
];

const refused: (Case & { reason: RegExp })[] = [
  { name: 'BatchNormalization-6 in training mode', opset: 6, inputs: [['x', [1, 2, 2]]], initializers: ['s', 'b', 'm', 'v'].map((k) => Tensor.fromFloat32(k, [2], Float32Array.of(1, 1))),
    nodes: [n('BatchNormalization', ['x', 's', 'b', 'm', 'v'], ['y'], [attr.int('is_test', 0)])], outputs: ['y'], reason: /training mode/ },
  { name: 'Dropout-9 whose mask is read', opset: 9, inputs: [['x', [2, 3]]], nodes: [n('Dropout', ['x'], ['y', 'mask'])], outputs: ['y', 'mask'], reason: /mask is read/ },
  { name: 'Crop (experimental, no exact form here)', opset: 8, inputs: [['x', [1, 1, 4, 4]]], nodes: [n('Crop', ['x'], ['y'], [attr.ints('border', [1, 1, 1, 1])])], outputs: ['y'], reason: /experimental op, removed at opset 10/ },
];

describe('opset adapters on graphs built for one change each', () => {
  for (const c of converts) {
    it(`converts ${c.name}`, async () => {
      const original = build(c);
      const model = cloneModel(original);
      const r = tryConvertOpset(model, c.target ?? 21);
      expect(r.refusals).toEqual([]);
      expect(r.rewritten).toBeGreaterThan(0);
      if (c.ops) expect(model.graph.nodes.map((x) => x.opType).filter((op) => op !== 'Constant')).toEqual(c.ops);
      if (c.lastOp) expect(model.graph.nodes.at(-1)!.opType).toBe(c.lastOp);
      const feeds = feedsFor(c);
      const after = await tryRun(serializeModel(model), feeds);
      expect(after).toBeDefined();
      if (c.expect) {
        const want = c.expect(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.data as Float32Array])));
        const got = after![c.outputs[0]!]!;
        expect(allcloseMismatch({ y: { ...got, data: want } }, { y: got })).toBeUndefined();
      } else {
        const before = await tryRun(serializeModel(original), feeds);
        expect(before).toBeDefined();
        expect(allcloseMismatch(before!, after!)).toBeUndefined();
      }
      // Raising again changes nothing.
      expect(tryConvertOpset(model, c.target ?? 21).rewritten).toBe(0);
    });
  }
  for (const c of refused) {
    it(`refuses ${c.name}, naming the node and leaving the model as it was`, () => {
      const model = build(c);
      const bytes = serializeModel(model);
      const r = tryConvertOpset(model, 21);
      expect(r.refusals).toHaveLength(1);
      expect(r.refusals[0]!.node).toBe("'y' (" + c.nodes[0]!.opType + ')');
      expect(r.refusals[0]!.reason).toMatch(c.reason);
      expect(Buffer.compare(Buffer.from(serializeModel(model)), Buffer.from(bytes))).toBe(0);
    });
  }

  it('raises model-local functions whose ops did not change, and refuses one whose op did', () => {
    const fn = (name: string, opType: string) => ({ name, domain: 'local', input: ['a'], output: ['b'], opset_import: [{ domain: '', version: 9 }], node: [{ op_type: opType, input: ['a'], output: ['b'] }] });
    const plain: Case = { name: 'relu', opset: 9, inputs: [['x', [2]]], nodes: [n('Relu', ['x'], ['y'])], outputs: ['y'] };
    const ok = build(plain);
    ok.functions = [fn('act', 'Relu')];
    expect(tryConvertOpset(ok, 21).refusals).toEqual([]);
    expect(Number((ok.functions[0] as ReturnType<typeof fn>).opset_import[0]!.version)).toBe(21);
    const changed = build(plain);
    changed.functions = [fn('clamp', 'Clip')];
    const r = tryConvertOpset(changed, 21);
    expect(r.refusals).toEqual([{ node: "function 'clamp'", reason: expect.stringMatching(/Clip changed after opset 9/) }]);
    expect(Number((changed.functions[0] as ReturnType<typeof fn>).opset_import[0]!.version)).toBe(9);
  });
});
