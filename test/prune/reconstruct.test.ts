// Pruning with calibration data keeps accuracy without retraining: calibrate on some inputs,
// score on others, against the float model. The trained MLP that models/ builds is what a
// clone can reach; the MNIST CNN and the PP-OCR inputs live in ../shared.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { modelProblems } from '../../src/ir/validate.js';
import { runSamples } from '../../src/runtime/ort.js';
import { pruneModel, type PruneOptions } from '../../src/prune/index.js';
import { ensureMnistModel } from '../../models/train-mnist.js';
import { sharedModel } from '../helpers/corpus.js';
import { digitSamples, mnistAccuracy } from '../helpers/mnist.js';
import { correct, OCR_DATA_DIR, OCR_MODELS, ocrImages, textMapOverlap } from './ocr.js';

const SCORING = { from: 9000, count: 1000 };
const CNN = sharedModel('mnist/mnist.onnx');
const haveCnn = existsSync(CNN);
const haveOcrData = existsSync(OCR_DATA_DIR);
if (!haveCnn) console.log(`skipping the MNIST CNN reconstruction tests: ${CNN} is missing`);
if (!haveOcrData) console.log(`skipping the PP-OCR reconstruction tests: ${OCR_DATA_DIR} is missing`);

const METHODS: { options: PruneOptions; maxDrop: number }[] = [
  { options: { method: 'magnitude', sparsity: 0.5 }, maxDrop: 1 },
  { options: { method: 'channels', ratio: 0.25 }, maxDrop: 1 },
  { options: { method: 'nm', n: 2, m: 4 }, maxDrop: 0.3 },
];

/** Accuracy without data, with data-aware scores only, and with reconstruction. */
async function threeWays(file: string, options: PruneOptions, digits: { plusMinusOne: boolean; calibration: number }) {
  const input = loadModel(file).graph.inputs[0]!.name;
  const calibration = digitSamples(input, { from: 8000, count: digits.calibration, plusMinusOne: digits.plusMinusOne, dims: [1, 1, 28, 28] }).samples;
  const result: Record<string, number> = {};
  for (const [mode, extra] of [['no data', {}], ['scores', { calibration, reconstruct: false }], ['reconstructed', { calibration }]] as const) {
    const model = loadModel(file);
    if (options.method === 'channels') await optimizeModel(model); // as the CLI does
    await pruneModel(model, { ...options, keepEnds: false, statistics: { quiet: true }, ...extra });
    expect(modelProblems(model)).toEqual([]);
    result[mode] = await mnistAccuracy(serializeModel(model), { ...SCORING, plusMinusOne: digits.plusMinusOne });
  }
  return result;
}

describe('reconstruction on MNIST digits (calibrate on 8000.., score on 9000..9999)', () => {
  it('the MLP models/ trains: every method with reconstruction within 1 point of float; 2:4 (pixels too) a point or more above pruning without data', { timeout: 300_000 }, async () => {
    const file = ensureMnistModel();
    const float = await mnistAccuracy(file, SCORING);
    for (const { options } of METHODS) {
      const r = await threeWays(file, options, { plusMinusOne: false, calibration: 256 });
      console.log(`MLP ${JSON.stringify(options)}: float ${float.toFixed(1)}%, ${Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(1)}%`).join(', ')}`);
      expect(float - r.reconstructed!, JSON.stringify(options)).toBeLessThanOrEqual(1);
      if (options.method === 'nm') expect(r.reconstructed! - r['no data']!).toBeGreaterThanOrEqual(1);
    }
  });

  it.skipIf(!haveCnn)('the PyTorch CNN: magnitude 50% and channels 25% within 1 point of float, 2:4 within 0.3', { timeout: 300_000 }, async () => {
    const float = await mnistAccuracy(CNN, { ...SCORING, plusMinusOne: true });
    for (const { options, maxDrop } of METHODS) {
      const r = await threeWays(CNN, options, { plusMinusOne: true, calibration: 64 });
      console.log(`CNN ${JSON.stringify(options)}: float ${float.toFixed(1)}%, ${Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(1)}%`).join(', ')}`);
      expect(float - r.reconstructed!, JSON.stringify(options)).toBeLessThanOrEqual(maxDrop);
    }
  });
});

describe.skipIf(!haveOcrData)('reconstruction on the PP-OCR models (npm), inputs from ../shared/data/ocr', () => {
  it('orientation classifier, channels 30%: within 5 points of float (two folds: calibrate on one half, score on the other)', { timeout: 300_000 }, async () => {
    const { samples, labels } = ocrImages('cls');
    const base = loadModel(OCR_MODELS.cls);
    await optimizeModel(base);
    const half = samples.length / 2;
    let floatRight = 0, prunedRight = 0;
    for (const [cal, test] of [[[0, half], [half, samples.length]], [[half, samples.length], [0, half]]] as const) {
      const model = loadModel(OCR_MODELS.cls);
      await optimizeModel(model);
      await pruneModel(model, { method: 'channels', ratio: 0.3, calibration: samples.slice(...cal), statistics: { quiet: true } });
      const testSamples = samples.slice(...test), testLabels = labels!.slice(...test);
      floatRight += correct(await runSamples(serializeModel(base), testSamples), testLabels);
      prunedRight += correct(await runSamples(serializeModel(model), testSamples), testLabels);
    }
    const [float, pruned] = [floatRight, prunedRight].map((r) => (100 * r) / samples.length);
    console.log(`PP-OCR classifier channels 30%: float ${float!.toFixed(1)}%, reconstructed ${pruned!.toFixed(1)}% (${samples.length} images, each scored once, held out)`);
    expect(float! - pruned!).toBeLessThanOrEqual(5);
  });

  it('text detector, channels 20%: text-map IoU >= 0.8 against float on held-out images', { timeout: 600_000 }, async () => {
    const { samples } = ocrImages('det');
    const calibration = samples.slice(0, 16), test = samples.slice(16);
    const model = loadModel(OCR_MODELS.det);
    await optimizeModel(model);
    const floatBytes = serializeModel(model);
    const modelBytes = floatBytes.byteLength;
    const reference = await runSamples(floatBytes, test);
    const report = await pruneModel(model, { method: 'channels', ratio: 0.2, calibration, statistics: { quiet: true } });
    expect(report.parameters.after).toBeLessThan(0.8 * report.parameters.before);
    const { intersection, union } = textMapOverlap(reference, await runSamples(serializeModel(model), test));
    console.log(`PP-OCR detector channels 20%: IoU ${(intersection / union).toFixed(3)}; calibration ${report.calibration!.passes} passes, peak ${(report.calibration!.peakPassBytes / 1e6).toFixed(1)} MB for a ${(modelBytes / 1e6).toFixed(1)} MB model`);
    expect(intersection / union).toBeGreaterThanOrEqual(0.8);
    expect(report.calibration!.peakPassBytes).toBeLessThan(4 * modelBytes);
  });
});
