import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { pruneModel } from '../../src/prune/index.js';
import { npmModels, sharedModel } from '../helpers/corpus.js';

// The same input and options give byte-identical files.
describe('deterministic output', () => {
  it('optimize and channel pruning, run twice from the file, write the same bytes', async () => {
    for (const file of [sharedModel('cnn/ultraface-rfb-320.onnx'), npmModels()[0]!.file]) {
      const once = async () => { const m = loadModel(file); await optimizeModel(m); return Buffer.from(serializeModel(m)); };
      expect(Buffer.compare(await once(), await once()), file).toBe(0);
    }
    const pruned = async () => { const m = loadModel(sharedModel('cnn/cifar10-resnet20.onnx')); await optimizeModel(m); await pruneModel(m, { method: 'channels', ratio: 0.3 }); return Buffer.from(serializeModel(m)); };
    expect(Buffer.compare(await pruned(), await pruned())).toBe(0);
  });
});
