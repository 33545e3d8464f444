import { describe, expect, it } from 'vitest';
import { Graph, Model, Node, attr, tensorType } from '../../src/ir/graph.js';
import { Tensor } from '../../src/ir/tensor.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { optimizeModel } from '../../src/optimize.js';
import { runOnce } from '../../src/runtime/ort.js';
import { seededRandom } from '../../src/runtime/samples.js';
import { maxRelativeError } from '../helpers/compare.js';

// Graphs built in code for one rule each (the real corpus has no decomposed LayerNorm or
// GELU): the rule fires on the exporter's pattern, leaves near misses alone, and the
// fused model computes the same values in onnxruntime.
const c = (g: Graph, name: string, dims: number[], values: number[]) => { g.initializers.set(name, Tensor.fromFloat32(name, dims, Float32Array.from(values))); return name; };
const n = (g: Graph, opType: string, inputs: string[], out: string, attributes = [] as ReturnType<typeof attr.int>[]) => { g.nodes.push(new Node({ opType, inputs, outputs: [out], name: out, attributes })); return out; };

function layerNormGraph(opset: number, varianceAxes = [-1]): Model {
  const g = new Graph('ln');
  g.inputs.push({ name: 'x', type: tensorType(1, [2, 4, 8]) });
  const mean = n(g, 'ReduceMean', ['x'], 'mean', [attr.ints('axes', [-1])]);
  const d = n(g, 'Sub', ['x', mean], 'd');
  const sq = n(g, 'Pow', [d, c(g, 'two', [], [2])], 'sq');
  const v = n(g, 'ReduceMean', [sq], 'var', [attr.ints('axes', varianceAxes)]);
  const ve = n(g, 'Add', [v, c(g, 'eps', [], [1e-5])], 've');
  const std = n(g, 'Sqrt', [ve], 'std');
  const norm = n(g, 'Div', [d, std], 'norm');
  const scaled = n(g, 'Mul', [norm, c(g, 'gamma', [8], [1, 2, 3, 4, 0.5, 0.25, -1, 1.5])], 'scaled');
  n(g, 'Add', [scaled, c(g, 'beta', [8], [0, 0.1, 0.2, 0.3, -0.1, -0.2, 0.5, 1])], 'y');
  g.outputs.push({ name: 'y', type: tensorType(1, [2, 4, 8]) });
  const m = new Model(g);
  m.irVersion = 8;
  m.opsetImport = [{ domain: '', version: opset }];
  return m;
}

function geluGraph(halfFirst: boolean): Model {
  const g = new Graph('gelu');
  g.inputs.push({ name: 'x', type: tensorType(1, [3, 16]) });
  const a = n(g, 'Div', ['x', c(g, 'sqrt2', [], [Math.SQRT2])], 'a');
  const e = n(g, 'Erf', [a], 'e');
  const p = n(g, 'Add', [e, c(g, 'one', [], [1])], 'p');
  if (halfFirst) n(g, 'Mul', [n(g, 'Mul', ['x', c(g, 'half', [], [0.5])], 'xh'), p], 'y');
  else n(g, 'Mul', [n(g, 'Mul', ['x', p], 'xp'), c(g, 'half', [], [0.5])], 'y');
  g.outputs.push({ name: 'y', type: tensorType(1, [3, 16]) });
  const m = new Model(g);
  m.irVersion = 9;
  m.opsetImport = [{ domain: '', version: 20 }];
  return m;
}

async function fusedAgrees(model: Model, pass: string, dims: number[]): Promise<{ ops: string[]; err: number }> {
  const rand = seededRandom(9);
  const feeds = { x: { type: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() * 4 - 2) } };
  const before = await runOnce(model, feeds);
  const fused = cloneModel(model);
  await optimizeModel(fused, { passes: [pass], verify: true });
  const after = await runOnce(fused, feeds);
  const again = await optimizeModel(fused, { passes: [pass] });
  expect(again.changed).toBe(false);
  return { ops: fused.graph.nodes.map((x) => x.opType), err: maxRelativeError(before, after) };
}

describe('fuse-layer-norm', () => {
  it('fuses the exporter pattern at opset 17 and computes the same values', async () => {
    const r = await fusedAgrees(layerNormGraph(17), 'fuse-layer-norm', [2, 4, 8]);
    expect(r.ops).toEqual(['LayerNormalization']);
    expect(r.err).toBeLessThan(1e-5);
  });
  it('leaves it alone below opset 17, or when the variance is taken over other axes', async () => {
    expect((await fusedAgrees(layerNormGraph(13), 'fuse-layer-norm', [2, 4, 8])).ops).toHaveLength(9);
    expect((await fusedAgrees(layerNormGraph(17, [-2]), 'fuse-layer-norm', [2, 4, 8])).ops).toHaveLength(9);
  });
});

describe('fuse-gelu', () => {
  for (const halfFirst of [false, true]) {
    it(`fuses the erf form (${halfFirst ? 'x*0.5 first' : '0.5 last'}) at opset 20`, async () => {
      const r = await fusedAgrees(geluGraph(halfFirst), 'fuse-gelu', [3, 16]);
      expect(r.ops).toEqual(['Gelu']);
      expect(r.err).toBeLessThan(1e-5);
    });
  }
});
