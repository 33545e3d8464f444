import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { saveModel } from '../../src/onnx/save.js';
import { decodeModelProto, modelProtoToObject } from '../../src/onnx/schema.js';
import { externalDataModel, sharedOr } from '../helpers/corpus.js';
import { ensureMnistModel } from '../../models/train-mnist.js';
import { generateFeeds } from '../helpers/feeds.js';
import { bitIdentical, tryRun } from '../helpers/run.js';
import type { HostTensor } from '../../src/runtime/ort.js';

describe('external data', () => {
  // PyTorch dynamo export, weights in mnist.onnx.data; in a user's clone, the example MLP saved so.
  const src = sharedOr('mnist/mnist.onnx', externalDataModel);
  const manyTensors = () => sharedOr('cnn/cifar10-resnet20.onnx', ensureMnistModel);

  it('loads, saves inline and external again, with identical outputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-ext-'));
    const model = loadModel(src);
    expect(model.source!.externalFiles).toEqual([`${basename(src)}.data`]);
    const feeds = generateFeeds(model, 3);
    const reference = await tryRun(src, feeds);
    expect(reference).toBeDefined();

    const inline = join(dir, 'inline.onnx');
    const r1 = saveModel(model, inline, { externalData: false });
    expect(r1.externalFile).toBeUndefined();
    expect(await tryRun(inline, feeds)).toSatisfy((out: Record<string, HostTensor>) => bitIdentical(reference!, out));

    // Default save keeps weights external when the source had them, in <name>.data.
    const again = join(dir, 'again.onnx');
    const r2 = saveModel(loadModel(inline), join(dir, 'plain.onnx'));
    expect(r2.externalFile).toBeUndefined();
    const r3 = saveModel(model, again);
    expect(r3.externalFile).toBe('again.onnx.data');
    expect(readdirSync(dir).sort()).toEqual(['again.onnx', 'again.onnx.data', 'inline.onnx', 'plain.onnx']);
    expect(await tryRun(again, feeds)).toSatisfy((out: Record<string, HostTensor>) => bitIdentical(reference!, out));

    // Apart from where the bytes live, the message is the original's.
    const strip = (f: string) => JSON.stringify(modelProtoToObject(decodeModelProto(readFileSync(f))), (k, v) => (k === 'external_data' || k === 'data_location' || k === 'raw_data' ? undefined : v));
    expect(strip(again)).toBe(strip(src));
  });

  it('goes external automatically past the inline limit, and aligns large tensors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-auto-'));
    const model = loadModel(manyTensors());
    // The real limit is 2 GiB; a lowered limit exercises the same decision on a small model.
    const r = saveModel(model, join(dir, 'm.onnx'), { inlineLimitBytes: 100_000 });
    expect(r.externalFile).toBe('m.onnx.data');
    const back = loadModel(join(dir, 'm.onnx'));
    for (const [name, t] of back.graph.initializers) {
      const orig = model.graph.initializers.get(name)!;
      expect(Buffer.compare(Buffer.from(t.rawBytes()), Buffer.from(orig.rawBytes())), name).toBe(0);
    }
  });

  it('fails cleanly, leaving nothing, when the target cannot be written', () => {
    const model = loadModel(src);
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-nowrite-'));
    const blocker = join(dir, 'file');
    writeFileSync(blocker, 'not a folder');
    expect(() => saveModel(model, join(blocker, 'x.onnx'))).toThrow(/x\.onnx: cannot be written/);
    expect(readdirSync(dir)).toEqual(['file']);
  });
});
