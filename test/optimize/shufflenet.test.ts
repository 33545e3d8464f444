// ShuffleNet (the ONNX model zoo's v1 architecture, ../shared's light graph with seeded
// weights): optimize turns its 16 channel shuffles into Gathers and its 13 residual Sums
// into Adds, computing the same outputs, and int8-static then runs them in integer. V2 as
// torchvision exports it with a dynamic batch (models/shufflenet-v2.ts) reads every shuffle
// size from x.size() at run time: the same Gathers once those targets fold to constants.
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/ir/graph.js';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { optimizeModel } from '../../src/optimize.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { runSamples } from '../../src/runtime/ort.js';
import { withSeededWeights } from '../../models/light-weights.js';
import { buildShuffleNetV2 } from '../../models/shufflenet-v2.js';
import { requireShared } from '../helpers/corpus.js';
import { maxRelativeError } from '../helpers/compare.js';
import { outputsCosine } from '../helpers/metrics.js';
import { generated, ortRuns } from '../helpers/quantized.js';

const file = requireShared('light/light_shufflenet.onnx');

/**
 * `original` optimized: the optimized model, its report, and its ops of a type; outputs are
 * asserted the same on two generated inputs of `dims`.
 */
async function optimizedAlike(original: Model, dims: number[]) {
  const float = cloneModel(original);
  const report = await optimizeModel(float);
  const samples = await generated(original, dims, 2, 1);
  const [ref, got] = [await runSamples(original, samples), await runSamples(float, samples)];
  ref.forEach((r, i) => expect(maxRelativeError(r, got[i]!)).toBeLessThan(1e-4));
  const ops = (t: string) => float.graph.nodes.filter((n) => n.opType === t);
  return { float, report, ops, samples, ref };
}

/** `float` in int8-static (calibrated on 4 generated 224x224 images); its mean output cosine to `ref` is asserted above 0.98. */
async function int8Close(float: Model, samples: Awaited<ReturnType<typeof generated>>, ref: Awaited<ReturnType<typeof runSamples>>) {
  const int8 = cloneModel(float);
  const q = await quantizeModel(int8, { mode: 'int8-static', calibration: await generated(float, [1, 3, 224, 224], 4, 2) });
  const scored = await runSamples(int8, samples);
  expect(ref.reduce((s, r, i) => s + outputsCosine(r, scored[i]!), 0) / ref.length).toBeGreaterThan(0.98);
  return { int8, q };
}

describe('ShuffleNet v1 (../shared light graph, seeded weights)', () => {
  it.skipIf(!file)('optimize: shuffles become Gathers, Sums become Adds, same outputs; int8-static runs both in integer', async () => {
    const original = loadModel(file!);
    expect(withSeededWeights(original)).toBeGreaterThan(100);
    const { float, report, ops, samples, ref } = await optimizedAlike(original, [1, 3, 224, 224]);
    expect(ops('Gather').filter((n) => n.getInt('axis') === 1).length).toBe(16);
    expect(ops('Transpose')).toEqual([]);
    expect(ops('Sum')).toEqual([]);
    expect(ops('Add').length).toBeGreaterThanOrEqual(13);
    expect(report.after.nodeCount).toBeLessThan(report.before.nodeCount);

    const { q } = await int8Close(float, samples, ref);
    expect(q.quantized.Gather).toBeGreaterThanOrEqual(15);
    expect(q.quantized.Add).toBe(13);
  });
});

describe('ShuffleNet V2 x0.5 as torchvision exports it, dynamic batch (models/shufflenet-v2.ts)', () => {
  it('optimize: the Shape-built shuffle targets fold, all 16 shuffles become Gathers, same outputs at batch 2; int8-static keeps shuffles and splits integer', async () => {
    // Batch 2: a size written as 0 (copy) or -1 must still follow the batch at run time.
    const { float, ops, samples, ref } = await optimizedAlike(buildShuffleNetV2(), [2, 3, 224, 224]);
    expect(ops('Gather').filter((n) => n.getInt('axis') === 1).length).toBe(16);
    expect([...ops('Transpose'), ...ops('Shape'), ...ops('Reshape')]).toEqual([]);

    const { int8, q } = await int8Close(float, samples, ref);
    expect(q.quantized.Gather).toBe(16);
    // chunk(2)'s Splits share their input's scale, so onnxruntime runs them in int8 with no
    // DequantizeLinear in between (the one left is the float head's).
    expect(q.quantized.Split).toBe(13);
    expect(await ortRuns(int8, 'extended')).toMatchObject({ Split: 13, QLinearConcat: 16, DequantizeLinear: 1 });
  });
});
