import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { saveModel, serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { quantizeModel, type QuantizeMode } from '../../src/quantize/index.js';
import { requireShared } from '../helpers/corpus.js';
import { checkerAvailable, runChecker } from '../helpers/checker.js';
import { digitSamples, mnistAccuracy } from '../helpers/mnist.js';
import { ensureMnistModel } from '../../models/train-mnist.js';

// Calibration digits and scoring digits are held apart: calibrate on 8000..8199, score on 9000..9999.
const CALIBRATION = { from: 8000, count: 200 };
const SCORING = { from: 9000, count: 1000 };
const MAX_DROP: Record<string, number> = { 'int8-static': 0.5, 'int8-dynamic': 1, fp16: 0.1 };

describe('quantized MNIST classifiers keep their accuracy on real digits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnxpress-quant-'));
  const cases = [
    { name: 'mnist-8', file: requireShared('mnist/mnist-8.onnx'), plusMinusOne: false },
    { name: 'mnist (pytorch, external data)', file: requireShared('mnist/mnist.onnx'), plusMinusOne: true },
  ];
  for (const c of cases) {
    it.skipIf(!c.file)(`${c.name}: int8-static, int8-dynamic, fp16 within their accuracy budgets; checker accepts`, async () => {
      const file = c.file!;
      const original = loadModel(file);
      const base = await mnistAccuracy(file, { ...SCORING, plusMinusOne: c.plusMinusOne });
      expect(base).toBeGreaterThan(95);
      const written: string[] = [];
      for (const mode of ['int8-static', 'int8-dynamic', 'fp16'] as QuantizeMode[]) {
        const model = cloneModel(original);
        const calibration = digitSamples('x', { ...CALIBRATION, plusMinusOne: c.plusMinusOne }).samples.map((s) => ({ [original.graph.inputs[0]!.name]: s.x! }));
        await optimizeModel(model);
        const report = await quantizeModel(model, { mode, calibration });
        const acc = await mnistAccuracy(serializeModel(model), { ...SCORING, plusMinusOne: c.plusMinusOne });
        expect(base - acc, `${c.name} ${mode}: ${base} -> ${acc}`).toBeLessThanOrEqual(MAX_DROP[mode]!);
        expect(Object.keys(report.quantized).length, mode).toBeGreaterThan(0);
        const out = join(dir, `${c.name.split(' ')[0]}-${mode}.onnx`);
        saveModel(model, out, { externalData: false });
        if ((model.opset('') ?? 0) <= 17) written.push(out);
      }
      if (checkerAvailable()) expect(Object.values(runChecker(written))).toEqual(written.map(() => null));
    });
  }
});

describe('size on a weight-dominated model (the example MLP)', () => {
  it('int8 >= 3.8x, fp16 >= 1.95x, int4 >= 6x smaller, all still accurate', async () => {
    const file = ensureMnistModel();
    const original = loadModel(file);
    const bytes = serializeModel(original).byteLength;
    const base = await mnistAccuracy(file, SCORING);
    const calibration = digitSamples('image', CALIBRATION).samples;
    const want: Record<string, number> = { 'int8-static': 3.8, 'int8-dynamic': 3.8, fp16: 1.95, int4: 6 };
    for (const [mode, ratio] of Object.entries(want)) {
      const model = cloneModel(original);
      await optimizeModel(model);
      await quantizeModel(model, { mode: mode as QuantizeMode, calibration });
      const q = serializeModel(model);
      expect(bytes / q.byteLength, mode).toBeGreaterThanOrEqual(ratio);
      expect(base - (await mnistAccuracy(q, SCORING)), mode).toBeLessThanOrEqual(mode === 'int4' ? 1.5 : 1);
    }
  });

  it("int4 as onnxruntime's MatMulNBits runs and keeps accuracy", async () => {
    const file = ensureMnistModel();
    const model = cloneModel(loadModel(file));
    await optimizeModel(model);
    const report = await quantizeModel(model, { mode: 'int4', matMulNBits: true });
    expect(report.quantized.Gemm).toBe(3);
    const q = serializeModel(model);
    expect(serializeModel(loadModel(file)).byteLength / q.byteLength).toBeGreaterThanOrEqual(6);
    expect((await mnistAccuracy(file, SCORING)) - (await mnistAccuracy(q, SCORING))).toBeLessThanOrEqual(1.5);
  });

  it('is deterministic: the same input and options give the same bytes', async () => {
    const original = loadModel(ensureMnistModel());
    const calibration = digitSamples('image', CALIBRATION).samples;
    const once = async () => { const m = cloneModel(original); await optimizeModel(m); await quantizeModel(m, { mode: 'int8-static', calibration, method: 'entropy' }); return Buffer.from(serializeModel(m)); };
    expect(Buffer.compare(await once(), await once())).toBe(0);
  });
});
