// Channel pruning through Concat (U-Net decoders, DenseNet blocks, FPNs) and through a Resize
// whose sizes are read from a shape at run time (PyTorch's F.interpolate(size=...)). The
// channels removed here carry nothing (zero weights, bias and BatchNorm shift), so the pruned
// graph must give the same output: a cut at the wrong offset of the Concat would not.
import { describe, expect, it } from 'vitest';
import { pruneModel } from '../../src/prune/index.js';
import { serializeModel } from '../../src/onnx/save.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { modelProblems } from '../../src/ir/validate.js';
import { openSession } from '../../src/runtime/ort.js';
import { generateSamples } from '../../src/runtime/samples.js';
import { GraphBuilder, f } from '../helpers/graph-builder.js';
import { outputsCosine } from '../helpers/metrics.js';

/** Conv A (8 ch, 4 empty) -> Relu -> Resize x2 by its own shape; Conv B (6 ch, 3 empty) on x resized by scales; Concat -> BN -> Relu -> Conv C. */
function decoderBlock() {
  const b = new GraphBuilder('decoder', 3);
  const x = b.input('x', [1, 3, 8, 8]);
  const emptyA = [1, 4, 6, 7], emptyB = [0, 3, 5];
  const conv = (name: string, input: string, out: number, empty: number[]) => {
    const w = b.weight(`w${name}`, [out, 3, 3, 3]);
    const bias = b.weight(`b${name}`, [out]);
    const wt = b.graph.initializers.get(w)!.toFloat32(), bt = b.graph.initializers.get(bias)!.toFloat32();
    for (const c of empty) { wt.fill(0, c * 27, (c + 1) * 27); bt[c] = 0; }
    b.weight(w, [out, 3, 3, 3], [...wt]);
    b.weight(bias, [out], [...bt]);
    return b.node('Conv', [input, w, bias], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: `conv${name}` });
  };
  const ra = b.node('Relu', [conv('A', x, 8, emptyA)]);
  const sizes = b.node('Concat', [b.node('Slice', [b.node('Shape', [ra]), b.int64('s0', [0]), b.int64('s2', [2]), b.int64('ax0', [0])]), b.int64('hw', [16, 16])], { axis: 0 });
  const up = b.node('Resize', [ra, '', '', sizes], { mode: 'nearest' });
  const xs = b.node('Resize', [x, '', b.weight('scales', [4], [1, 1, 2, 2])], { mode: 'nearest' });
  const cat = b.node('Concat', [up, conv('B', xs, 6, emptyB)], { axis: 1 });
  // BatchNorm leaves an empty channel at zero: shift and mean are zero there.
  const empty = new Set([...emptyA, ...emptyB.map((c) => c + 8)]);
  const per = (name: string, value: (c: number) => number) => b.weight(name, [14], Array.from({ length: 14 }, (_, c) => value(c)));
  const bn = b.node('BatchNormalization', [cat, per('gamma', (c) => 0.5 + c / 14), per('beta', (c) => (empty.has(c) ? 0 : 0.1 * c)), per('mean', (c) => (empty.has(c) ? 0 : 0.05 * c)), per('var', (c) => 1 + c / 7)], { epsilon: f(1e-5) });
  const y = b.node('Conv', [b.node('Relu', [bn]), b.weight('wC', [4, 14, 1, 1]), b.weight('bC', [4])], { kernel_shape: [1, 1] }, { name: 'convC' });
  b.output(y);
  return b.model(13);
}

describe('channel pruning through Concat and a shape-sized Resize', () => {
  it('removes the empty channels of both parts, cuts the BatchNorm and the next conv at each part\'s offset, and the output is unchanged', async () => {
    const original = decoderBlock();
    const model = cloneModel(original);
    const report = await pruneModel(model, { method: 'channels', ratio: 0.5 });
    const byProducer = Object.fromEntries(report.groups!.map((g) => [g.producers.join(','), g]));
    expect(byProducer.convA).toMatchObject({ channels: 8, kept: 4 });
    expect(byProducer.convB).toMatchObject({ channels: 6, kept: 3 });
    expect(byProducer.convC!.skipped).toMatch(/graph output/);
    const g = model.graph;
    expect(g.findInitializer('wA')!.dims).toEqual([4, 3, 3, 3]);
    expect(g.findInitializer('wB')!.dims).toEqual([3, 3, 3, 3]);
    expect(g.findInitializer('gamma')!.dims).toEqual([7]);
    expect(g.findInitializer('wC')!.dims).toEqual([4, 7, 1, 1]);
    // The kept BatchNorm channels are A's 0, 2, 3, 5 and B's 1, 2, 4 (at 8 + c).
    expect([...g.findInitializer('gamma')!.toFloat32()]).toEqual([0, 2, 3, 5, 9, 10, 12].map((c) => Math.fround(0.5 + c / 14)));
    expect(modelProblems(model)).toEqual([]);
    const out = original.graph.outputs[0]!.name;
    const [a, p] = [await openSession(serializeModel(original)), await openSession(serializeModel(model))];
    for (const feeds of generateSamples([{ name: 'x', type: 'float32', dims: [1, 3, 8, 8] }], 3, 5)) {
      const [ya, yp] = [await a.run(feeds), await p.run(feeds)];
      expect(yp[out]!.dims).toEqual([1, 4, 16, 16]);
      expect(outputsCosine(ya, yp)).toBeGreaterThan(0.999999);
      const [u, v] = [ya[out]!.data as Float32Array, yp[out]!.data as Float32Array];
      expect(Math.max(...u.map((x, i) => Math.abs(x - v[i]!)))).toBeLessThan(1e-4);
    }
    await a.release();
    await p.release();
  });

  it('with data, the conv after the Concat is each part\'s next layer: ranked and re-fitted on its statistics at that part\'s columns, the same channels go, and the output holds', async () => {
    const original = decoderBlock();
    const model = cloneModel(original);
    const calibration = generateSamples([{ name: 'x', type: 'float32', dims: [1, 3, 8, 8] }], 8, 9);
    const report = await pruneModel(model, { method: 'channels', ratio: 0.5, calibration });
    const byProducer = Object.fromEntries(report.groups!.map((g) => [g.producers.join(','), g]));
    for (const group of ['convA', 'convB']) expect(byProducer[group]!.errors!.map((e) => e.name)).toEqual(['convC']);
    // Empty channels cost nothing: they are the ones removed, and the re-fit keeps the output.
    expect([...model.graph.findInitializer('gamma')!.toFloat32()]).toEqual([0, 2, 3, 5, 9, 10, 12].map((c) => Math.fround(0.5 + c / 14)));
    const [a, p] = [await openSession(serializeModel(original)), await openSession(serializeModel(model))];
    for (const feeds of generateSamples([{ name: 'x', type: 'float32', dims: [1, 3, 8, 8] }], 3, 5)) expect(outputsCosine(await a.run(feeds), await p.run(feeds))).toBeGreaterThan(0.9999);
    await a.release();
    await p.release();
  });

  it('a Shape read for anything but Resize sizes keeps its group whole', async () => {
    const b = new GraphBuilder('shape-read', 3);
    const x = b.input('x', [1, 3, 8, 8]);
    const a = b.node('Conv', [x, b.weight('wA', [8, 3, 3, 3]), b.weight('bA', [8])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'convA' });
    // The channel count read as data: pruning would change what this computes.
    b.output(b.node('Shape', [a]), undefined, 7);
    b.output(b.node('Conv', [a, b.weight('wB', [4, 8, 1, 1])], { kernel_shape: [1, 1] }, { name: 'convB' }));
    const report = await pruneModel(b.model(13), { method: 'channels', ratio: 0.5 });
    expect(report.groups!.find((r) => r.producers.includes('convA'))!.skipped).toMatch(/Shape/);
  });

  /** convA (8 ch, 4 empty) -> Relu -> `upsample(b, relu)`, then a conv of its own, as the graph output. */
  function upsampled(opset: number, upsample: (b: GraphBuilder, x: string) => string, extra?: (b: GraphBuilder, x: string) => void) {
    const b = new GraphBuilder('up', 3);
    const x = b.input('x', [1, 3, 8, 8]);
    const wa = Array.from({ length: 8 * 27 }, (_, i) => ([1, 4, 6, 7].includes(Math.floor(i / 27)) ? 0 : Math.sin(i)));
    const a = b.node('Relu', [b.node('Conv', [x, b.weight('wA', [8, 3, 3, 3], wa)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'convA' })]);
    extra?.(b, x);
    b.output(b.node('Conv', [upsample(b, a), b.weight('wC', [4, 8, 1, 1])], { kernel_shape: [1, 1] }, { name: 'convC' }));
    return b.model(opset);
  }

  async function sameOutputs(original: ReturnType<typeof upsampled>, pruned: ReturnType<typeof upsampled>) {
    const [a, p] = [await openSession(serializeModel(original)), await openSession(serializeModel(pruned))];
    for (const feeds of generateSamples([{ name: 'x', type: 'float32', dims: [1, 3, 8, 8] }], 2, 5)) {
      const [ya, yp] = [await a.run(feeds), await p.run(feeds)];
      for (const k of Object.keys(ya)) expect(yp[k]!.dims, k).toEqual(ya[k]!.dims);
      expect(outputsCosine(ya, yp)).toBeGreaterThan(0.999999);
    }
    await a.release();
    await p.release();
  }

  it('Resize-18 with axes [2, 3]: its sizes name no channel, so they stay as they are', async () => {
    const original = upsampled(18, (b, a) => b.node('Resize', [a, '', '', b.int64('hw', [16, 16])], { mode: 'nearest', axes: [2, 3] }));
    const model = cloneModel(original);
    const report = await pruneModel(model, { method: 'channels', ratio: 0.5 });
    expect(report.groups!.find((g) => g.producers.includes('convA'))).toMatchObject({ kept: 4 });
    expect(model.graph.findInitializer('hw')!.toNumbers()).toEqual([16, 16]);
    await sameOutputs(original, model);
  });

  it('a constant sizes tensor another Resize also reads is not rewritten for one group', async () => {
    // Both Resizes read 'sizes' (as dedupe leaves two equal constants): convB's must keep 8 channels.
    const original = upsampled(13, (b, a) => b.node('Resize', [a, '', '', b.int64('sizes', [1, 8, 16, 16])], { mode: 'nearest' }), (b, x) => {
      const convB = b.node('Conv', [x, b.weight('wB', [8, 3, 1, 1])], { kernel_shape: [1, 1] }, { name: 'convB' });
      b.output(b.node('Resize', [convB, '', '', 'sizes'], { mode: 'nearest' }));
    });
    const model = cloneModel(original);
    const report = await pruneModel(model, { method: 'channels', ratio: 0.5 });
    expect(model.graph.findInitializer('sizes')!.toNumbers()).toEqual([1, 8, 16, 16]);
    expect(report.groups!.find((g) => g.producers.includes('convA'))!.kept).toBe(8);
    await sameOutputs(original, model);
  });

  it('a Concat output handed to a Loop as an input keeps its parts whole', async () => {
    const b = new GraphBuilder('loop', 3);
    const x = b.input('x', [1, 3, 8, 8]);
    const conv = (name: string) => b.node('Conv', [x, b.weight(`w${name}`, [8, 3, 1, 1])], { kernel_shape: [1, 1] }, { name });
    const cat = b.node('Concat', [conv('convA'), conv('convB')], { axis: 1 });
    const body = new GraphBuilder('body', 1, b.graph);
    body.input('i', [], 7);
    body.input('c', [], 9);
    body.input('v', [1, 16, 8, 8]);
    body.output(body.node('Identity', ['c']), [], 9);
    body.output(body.node('Identity', ['v']), [1, 16, 8, 8]);
    const [looped] = b.nodeOutputs('Loop', [b.int64('trips', [1], []), '', cat], {}, { outputs: ['looped'] });
    b.graph.nodes.at(-1)!.attributes = [{ name: 'body', type: 5, g: body.graph }];
    b.output(b.node('Conv', [looped!, b.weight('wC', [4, 16, 1, 1])], { kernel_shape: [1, 1] }, { name: 'convC' }));
    const report = await pruneModel(b.model(13), { method: 'channels', ratio: 0.5 });
    for (const p of ['convA', 'convB']) expect(report.groups!.find((g) => g.producers.includes(p))!.skipped).toMatch(/Loop/);
  });
});
