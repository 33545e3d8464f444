import { describe, expect, it } from 'vitest';
import { loadModel } from '../../../src/onnx/load.js';
import { cloneModel } from '../../../src/onnx/clone.js';
import { serializeModel } from '../../../src/onnx/save.js';
import { optimizeModel } from '../../../src/optimize.js';
import { runSamples } from '../../../src/runtime/ort.js';
import { equalizeCrossLayer, findPairs } from '../../../src/quantize/techniques/equalize.js';
import { modelProblems } from '../../../src/ir/validate.js';
import { requireShared, sharedModel } from '../../helpers/corpus.js';
import { generateFeeds } from '../../helpers/feeds.js';
import { OCR_MODELS } from '../../prune/ocr.js';

/** Largest |a - b| over all outputs, relative to the largest |a|. */
function relativeDifference(a: Record<string, { data: unknown }>[], b: Record<string, { data: unknown }>[]): number {
  let diff = 0, scale = 0;
  a.forEach((o, i) => {
    for (const [name, t] of Object.entries(o)) {
      const u = t.data as Float32Array, v = b[i]![name]!.data as Float32Array;
      for (let k = 0; k < u.length; k++) { diff = Math.max(diff, Math.abs(u[k]! - v[k]!)); scale = Math.max(scale, Math.abs(u[k]!)); }
    }
  });
  return diff / scale;
}

async function preserves(file: string): Promise<{ pairs: number; difference: number; spreadBefore: number; spreadAfter: number }> {
  const float = loadModel(file);
  await optimizeModel(float);
  const eq = cloneModel(float);
  const report = equalizeCrossLayer(eq.graph);
  expect(modelProblems(eq)).toEqual([]);
  const feeds = [generateFeeds(float, 1), generateFeeds(float, 2)];
  const [ref, got] = [await runSamples(serializeModel(float), feeds), await runSamples(serializeModel(eq), feeds)];
  return { ...report, difference: relativeDifference(ref, got) };
}

describe('cross-layer equalization', () => {
  it('PP-OCR classifier (depthwise-separable): outputs unchanged in onnxruntime, channel ranges evened out', async () => {
    const r = await preserves(OCR_MODELS.cls);
    expect(r.pairs).toBeGreaterThan(5);
    expect(r.difference).toBeLessThan(1e-4);
    expect(r.spreadAfter).toBeLessThan(0.5 * r.spreadBefore);
  });

  it('never equalizes through an activation that is not positively homogeneous (the classifier\'s HardSwish, ReLU6)', async () => {
    const model = loadModel(OCR_MODELS.cls);
    await optimizeModel(model);
    const readers = model.graph.consumers();
    for (const p of findPairs(model.graph)) {
      const between = readers.get(p.a.outputs[0]!)![0]!;
      expect(between === p.b || ['Relu', 'LeakyRelu'].includes(between.opType)).toBe(true);
    }
  });

  it.skipIf(!requireShared('cnn/cifar10-resnet20.onnx'))('CIFAR ResNet-20: outputs unchanged', async () => {
    const r = await preserves(sharedModel('cnn/cifar10-resnet20.onnx'));
    expect(r.pairs).toBeGreaterThan(0);
    expect(r.difference).toBeLessThan(1e-4);
  });
});
