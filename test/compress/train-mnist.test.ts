import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serializeModel } from '../../src/onnx/save.js';
import { loadModel } from '../../src/onnx/load.js';
import { ensureMnistModel, trainMnist, TRAIN_COUNT } from '../../models/train-mnist.js';
import { mnistAccuracy } from '../helpers/mnist.js';
import { runChecker } from '../helpers/checker.js';

// The example model every compress test and the demo stand on: it must be a real classifier
// (scored by onnxruntime on digits it never trained on), standard ONNX, and reproducible.
describe('models/train-mnist.ts', () => {
  it('same seed, same bytes; another seed, other bytes (one epoch on 2000 digits each)', () => {
    const a = serializeModel(trainMnist({ epochs: 1, seed: 7, trainCount: 2000 }).model);
    const b = serializeModel(trainMnist({ epochs: 1, seed: 7, trainCount: 2000 }).model);
    const c = serializeModel(trainMnist({ epochs: 1, seed: 8, trainCount: 2000 }).model);
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, c)).not.toBe(0);
  });

  it('the built model classifies held-out digits in onnxruntime, passes onnx.checker and is weight-dominated', async () => {
    const file = ensureMnistModel();
    const heldOut = 10_000 - TRAIN_COUNT;
    const top1 = await mnistAccuracy(file, { from: TRAIN_COUNT, count: heldOut });
    console.log(`mnist-mlp.onnx: top-1 ${top1.toFixed(2)}% on ${heldOut} held-out digits (onnxruntime)`);
    expect(top1).toBeGreaterThan(93);
    expect(runChecker([file])[file]).toBeNull();
    // int8 can only reach 3.5x smaller if nearly all bytes are float weights.
    const model = loadModel(file);
    let weightBytes = 0;
    for (const t of model.tensors()) weightBytes += t.rawBytes().byteLength;
    expect(weightBytes / readFileSync(file).byteLength).toBeGreaterThan(0.98);
  });
});
