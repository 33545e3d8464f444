import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { quantizeModel, type QuantizeMode } from '../../src/quantize/index.js';
import { runSamples } from '../../src/runtime/ort.js';
import { readImage } from '../../src/runtime/data/images.js';
import type { Sample } from '../../src/runtime/samples.js';
import { npmModels, requireShared, sharedModel } from '../helpers/corpus.js';
import { generateFeeds } from '../helpers/feeds.js';
import { outputsCosine } from '../helpers/metrics.js';
import { digitSamples } from '../helpers/mnist.js';

async function worstCosine(file: string, mode: QuantizeMode, samples: Sample[], method?: 'minmax' | 'percentile' | 'entropy'): Promise<number> {
  const model = cloneModel(loadModel(file));
  await optimizeModel(model);
  // int8-dynamic leaves Conv in float unless asked: ask, so these CNNs are quantized.
  const opTypes = mode === 'int8-dynamic' ? ['MatMul', 'Gemm', 'Conv'] : undefined;
  await quantizeModel(model, { mode, calibration: samples, method, percentile: 99.99, opTypes });
  const [ref, got] = [await runSamples(file, samples), await runSamples(serializeModel(model), samples)];
  return Math.min(...ref.map((r, i) => outputsCosine(r, got[i]!)));
}

const images = {
  resnet20: () => [{ input: readImage(sharedModel('images/cifar_horse5.png'), [1, 3, 32, 32], { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.243, 0.261] }) }],
  ultraface: () => [1, 2, 3, 10].map((i) => ({ input: readImage(sharedModel(`images/ultraface_imgs_${i}.jpg`), [1, 3, 240, 320], { scale: 1, mean: [127], std: [128] }) })),
};

describe('quantized real models agree with the float model on real inputs', () => {
  for (const [name, file, samples] of [['cifar10-resnet20 (horse photo)', 'cnn/cifar10-resnet20.onnx', images.resnet20], ['ultraface (face photos)', 'cnn/ultraface-rfb-320.onnx', images.ultraface]] as const) {
    const needs = [file, ...(name.startsWith('cifar') ? ['images/cifar_horse5.png'] : [1, 2, 3, 10].map((i) => `images/ultraface_imgs_${i}.jpg`))];
    it.skipIf(!needs.every((rel) => requireShared(rel)))(`${name}: cosine >= 0.99 for int8, >= 0.999 for fp16`, async () => {
      const s = samples();
      expect(await worstCosine(sharedModel(file), 'int8-static', s)).toBeGreaterThanOrEqual(0.99);
      expect(await worstCosine(sharedModel(file), 'int8-static', s, 'entropy')).toBeGreaterThanOrEqual(0.99);
      expect(await worstCosine(sharedModel(file), 'int8-dynamic', s)).toBeGreaterThanOrEqual(0.99);
      expect(await worstCosine(sharedModel(file), 'fp16', s)).toBeGreaterThanOrEqual(0.999);
    });
  }

  it('Silero VAD (LSTM, If subgraphs): fp16 converts inside the branches and gives valid outputs, only the LSTMs reported float (fp16-bodies.test.ts); int8-dynamic by default has nothing to quantize and says why (int8-static quantizes the If branches: if-bodies.test.ts; int8-dynamic with Conv: weight-modes-bodies.test.ts)', async () => {
    for (const m of npmModels()) {
      const model = loadModel(m.file);
      const feeds = [generateFeeds(model, 5), generateFeeds(model, 6)];
      const plain = cloneModel(model);
      await optimizeModel(plain);
      await expect(quantizeModel(plain, { mode: 'int8-dynamic' }), m.id).rejects.toThrow(/^nothing was quantized: \d+ node\(s\) \(first: [^)]+\): not quantized by default \(ConvInteger.*LSTM.*no integer recurrent op/);
      const q = cloneModel(model);
      await optimizeModel(q);
      const report = await quantizeModel(q, { mode: 'fp16' });
      expect(report.leftInFloat.map((l) => l.opType).filter((op) => op !== 'LSTM'), m.id).toEqual([]);
      const [ref, got] = [await runSamples(m.file, feeds), await runSamples(serializeModel(q), feeds)];
      for (let i = 0; i < feeds.length; i++) expect(outputsCosine(ref[i]!, got[i]!), m.id).toBeGreaterThanOrEqual(0.999);
    }
  });
});

describe('calibration methods', () => {
  // Outliers used to make percentile/entropy win here (0.9991 against minmax's 0.9989); with
  // Softmax in float and Relu absorbed, every method keeps the scores closer than that.
  it.skipIf(!requireShared('mnist/mnist-keras-nhwc.onnx'))('every method keeps the Keras MNIST CNN within cosine 0.9995 of float', async () => {
    const file = sharedModel('mnist/mnist-keras-nhwc.onnx');
    const input = loadModel(file).graph.inputs[0]!.name;
    const calibration = digitSamples(input, { from: 8000, count: 300, dims: [1, 28, 28, 1] }).samples;
    const scoring = digitSamples(input, { from: 9000, count: 300, dims: [1, 28, 28, 1] }).samples;
    const meanCosine = async (method: 'minmax' | 'percentile' | 'entropy') => {
      const model = cloneModel(loadModel(file));
      await optimizeModel(model);
      await quantizeModel(model, { mode: 'int8-static', calibration, method, percentile: 99.99 });
      const [ref, got] = [await runSamples(file, scoring), await runSamples(serializeModel(model), scoring)];
      return ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length;
    };
    for (const method of ['minmax', 'percentile', 'entropy'] as const) expect(await meanCosine(method), method).toBeGreaterThan(0.9995);
  });
});
