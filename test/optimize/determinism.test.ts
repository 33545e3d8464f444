import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { pruneModel } from '../../src/prune/index.js';
import { npmModels, requireShared } from '../helpers/corpus.js';

// The same input and options give byte-identical files.
describe('deterministic output', () => {
  it('optimize, run twice from the file, writes the same bytes', async () => {
    for (const file of [requireShared('cnn/ultraface-rfb-320.onnx'), npmModels()[0]!.file].filter((f) => f !== undefined)) {
      const once = async () => { const m = loadModel(file); await optimizeModel(m); return Buffer.from(serializeModel(m)); };
      expect(Buffer.compare(await once(), await once()), file).toBe(0);
    }
  });

  const resnet20 = requireShared('cnn/cifar10-resnet20.onnx');
  it.skipIf(!resnet20)('channel pruning, run twice from the file, writes the same bytes', async () => {
    const pruned = async () => { const m = loadModel(resnet20!); await pruneModel(m, { method: 'channels', ratio: 0.3 }); return Buffer.from(serializeModel(m)); };
    expect(Buffer.compare(await pruned(), await pruned())).toBe(0);
  });
});
