import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Model } from '../../../src/ir/graph.js';
import { loadModel } from '../../../src/onnx/load.js';
import { cloneModel } from '../../../src/onnx/clone.js';
import { optimizeModel } from '../../../src/optimize.js';
import { quantizeModel, type QuantizeOptions } from '../../../src/quantize/index.js';
import type { Sample } from '../../../src/runtime/samples.js';
import { ensureMnistModel } from '../../../models/train-mnist.js';
import { digitSamples } from '../../helpers/mnist.js';
import { OCR_DATA_DIR, OCR_MODELS, ocrImages } from '../../prune/ocr.js';
import { layerOutputError } from './layer-error.js';

async function errors(file: string, calibration: Sample[], heldOut: Sample[], techniques: Partial<QuantizeOptions>[]): Promise<number[]> {
  const float = loadModel(file);
  await optimizeModel(float);
  const out: number[] = [];
  for (const t of techniques) {
    for (const perChannel of [true, false]) {
      const q: Model = cloneModel(float);
      // Every depthwise layer in integer: the layers whose rounding error the techniques are for.
      await quantizeModel(q, { mode: 'int8-static', calibration, perChannel, largeDepthwise: 'integer', ...t });
      out.push(await layerOutputError(float, q, heldOut));
    }
  }
  return out;
}

const ocrData = existsSync(OCR_DATA_DIR);
if (!ocrData) console.log(`skipped the PP-OCR classifier cases: ${OCR_DATA_DIR} not found (a user's clone has no ../shared)`);

describe('GPTQ rounding reduces each layer\'s output error against plain rounding', () => {
  it('the example MLP on held-out MNIST digits (per channel and per tensor)', async () => {
    const calibration = digitSamples('image', { from: 8000, count: 64 }).samples;
    const heldOut = digitSamples('image', { from: 9000, count: 64 }).samples;
    const [plainChannel, plainTensor, gptqChannel, gptqTensor] = await errors(ensureMnistModel(), calibration, heldOut, [{}, { gptq: true }]);
    expect(gptqChannel!).toBeLessThan(0.8 * plainChannel!);
    expect(gptqTensor!).toBeLessThan(0.8 * plainTensor!);
  });

  it.skipIf(!ocrData)('the PP-OCR classifier (depthwise-separable) on rendered text lines', async () => {
    const { samples } = ocrImages('cls');
    const [plainChannel, plainTensor, gptqChannel, gptqTensor] = await errors(OCR_MODELS.cls, samples.slice(0, 16), samples.slice(32, 48), [{}, { gptq: true }]);
    expect(gptqChannel!).toBeLessThan(0.8 * plainChannel!);
    expect(gptqTensor!).toBeLessThan(0.8 * plainTensor!);
  });
});

describe('bias correction reduces each layer\'s output error against plain rounding', () => {
  it('the example MLP on held-out MNIST digits', async () => {
    const calibration = digitSamples('image', { from: 8000, count: 64 }).samples;
    const heldOut = digitSamples('image', { from: 9000, count: 64 }).samples;
    const [plainChannel, plainTensor, biasChannel, biasTensor] = await errors(ensureMnistModel(), calibration, heldOut, [{}, { biasCorrection: true }]);
    expect(biasChannel!).toBeLessThan(plainChannel!);
    expect(biasTensor!).toBeLessThan(plainTensor!);
  });

  it.skipIf(!ocrData)('the PP-OCR classifier on rendered text lines', async () => {
    const { samples } = ocrImages('cls');
    const [plainChannel, plainTensor, biasChannel, biasTensor] = await errors(OCR_MODELS.cls, samples.slice(0, 16), samples.slice(32, 48), [{}, { biasCorrection: true }]);
    expect(biasChannel!).toBeLessThan(0.95 * plainChannel!);
    expect(biasTensor!).toBeLessThan(0.95 * plainTensor!);
  });
});
