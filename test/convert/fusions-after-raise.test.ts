import { describe, expect, it } from 'vitest';
import { Graph, Model, Node, attr, tensorType, type NodeInit } from '../../src/ir/graph.js';
import { Tensor } from '../../src/ir/tensor.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { convertOpset } from '../../src/convert/opset/index.js';
import { optimizeModel } from '../../src/optimize.js';
import { runOnce } from '../../src/runtime/ort.js';
import { seededRandom } from '../helpers/feeds.js';
import { allcloseMismatch } from './allclose.js';

// An opset-9 export of a transformer block's LayerNorm and GELU (ReduceMean axes as an
// attribute, as exporters wrote them then) gets the LayerNormalization (17) and Gelu (20)
// fusions once raised, and computes the same values.
function oldBlock(): Model {
  const g = new Graph('block');
  const c = (name: string, dims: number[], v: number[]) => { g.initializers.set(name, Tensor.fromFloat32(name, dims, Float32Array.from(v))); return name; };
  const nodes: NodeInit[] = [
    { opType: 'ReduceMean', inputs: ['x'], outputs: ['mean'], attributes: [attr.ints('axes', [-1])] },
    { opType: 'Sub', inputs: ['x', 'mean'], outputs: ['d'] },
    { opType: 'Pow', inputs: ['d', c('two', [], [2])], outputs: ['sq'] },
    { opType: 'ReduceMean', inputs: ['sq'], outputs: ['var'], attributes: [attr.ints('axes', [-1])] },
    { opType: 'Add', inputs: ['var', c('eps', [], [1e-5])], outputs: ['ve'] },
    { opType: 'Sqrt', inputs: ['ve'], outputs: ['std'] },
    { opType: 'Div', inputs: ['d', 'std'], outputs: ['norm'] },
    { opType: 'Mul', inputs: ['norm', c('gamma', [8], [1, 2, 3, 4, 0.5, 0.25, -1, 1.5])], outputs: ['scaled'] },
    { opType: 'Add', inputs: ['scaled', c('beta', [8], [0, 0.1, 0.2, 0.3, -0.1, -0.2, 0.5, 1])], outputs: ['ln'] },
    { opType: 'Div', inputs: ['ln', c('sqrt2', [], [Math.SQRT2])], outputs: ['a'] },
    { opType: 'Erf', inputs: ['a'], outputs: ['e'] },
    { opType: 'Add', inputs: ['e', c('one', [], [1])], outputs: ['p'] },
    { opType: 'Mul', inputs: ['ln', c('half', [], [0.5])], outputs: ['xh'] },
    { opType: 'Mul', inputs: ['xh', 'p'], outputs: ['y'] },
  ];
  g.nodes = nodes.map((n) => new Node({ ...n, name: n.outputs[0] }));
  g.inputs.push({ name: 'x', type: tensorType(1, [2, 4, 8]) });
  g.outputs.push({ name: 'y', type: tensorType(1, [2, 4, 8]) });
  const m = new Model(g);
  m.irVersion = 4;
  m.opsetImport = [{ domain: '', version: 9 }];
  return m;
}

describe('fusions after raising an old export', () => {
  it('LayerNormalization and Gelu fuse at 21, not at 9, with the same outputs', async () => {
    const rand = seededRandom(2);
    const feeds = { x: { type: 'float32', dims: [2, 4, 8], data: Float32Array.from({ length: 64 }, () => rand() * 4 - 2) } };
    const original = oldBlock();
    const before = await runOnce(original, feeds);

    const asIs = cloneModel(original);
    const r9 = await optimizeModel(asIs, { verify: true });
    expect(r9.after.opTypes.LayerNormalization ?? 0).toBe(0);

    const raised = cloneModel(original);
    convertOpset(raised, 21);
    const r21 = await optimizeModel(raised, { verify: true });
    expect(r21.after.opTypes).toEqual({ LayerNormalization: 1, Gelu: 1 });
    expect(allcloseMismatch(before, await runOnce(serializeModel(raised), feeds))).toBeUndefined();
  });
});
