import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { modelProblems } from '../../src/ir/validate.js';
import { chooseLevels, layerSensitivity, prunableLayers, pruneModel, type PruneOptions } from '../../src/prune/index.js';
import { openSession } from '../../src/runtime/ort.js';
import { ensureMnistModel } from '../../models/train-mnist.js';
import { existsSync } from 'node:fs';
import { sharedModel, sharedModels, npmModels, SHARED_MODELS_DIR } from '../helpers/corpus.js';
import { generateFeeds } from '../helpers/feeds.js';
import { digitSamples, mnistAccuracy } from '../helpers/mnist.js';

const SCORING = { from: 9000, count: 1000 };
const haveShared = existsSync(SHARED_MODELS_DIR);
if (!haveShared) console.log(`${SHARED_MODELS_DIR} is missing: pruning tests on the shared models are skipped (the models/ MLP still runs)`);

describe('unstructured and N:M pruning change nothing but the zeroed weights', () => {
  for (const opts of [{ method: 'magnitude', sparsity: 0.5 }, { method: 'magnitude', sparsity: 0.7, global: true }, { method: 'nm', n: 2, m: 4 }] as PruneOptions[]) {
    it(`${opts.method} ${JSON.stringify(opts)} on the real models`, async () => {
      for (const file of [sharedModel('mnist/mnist-8.onnx'), sharedModel('cnn/cifar10-resnet20.onnx'), ensureMnistModel()].filter((f) => existsSync(f))) {
        const original = loadModel(file);
        const pruned = cloneModel(original);
        const report = await pruneModel(pruned, opts);
        expect(report.layers.length, file).toBeGreaterThan(0);
        // Every tensor is the original's, value for value, except values set to zero.
        for (const [name, t] of original.graph.initializers) {
          const p = pruned.graph.initializers.get(name)!;
          expect(p.dims).toEqual(t.dims);
          if (t.dataType !== 1) { expect(Buffer.compare(Buffer.from(p.rawBytes()), Buffer.from(t.rawBytes()))).toBe(0); continue; }
          const [a, b] = [t.toFloat32(), p.toFloat32()];
          for (let i = 0; i < a.length; i++) if (b[i] !== a[i] && b[i] !== 0) throw new Error(`${name}[${i}] changed`);
        }
        if (opts.method === 'nm') {
          for (const l of prunableLayers(pruned).layers.filter((x) => report.layers.some((r) => r.name === x.name))) {
            const w = l.weight.toFloat32();
            for (let o = 0; o < l.outputs; o++) for (let k = 0; k < l.fanIn; k += 4) {
              let nonZero = 0;
              for (let j = 0; j < 4; j++) if (w[l.index(o, l.nmOrder[k + j]!)] !== 0) nonZero++;
              expect(nonZero).toBeLessThanOrEqual(2);
            }
          }
        }
        const s = await openSession(serializeModel(pruned));
        await s.run(generateFeeds(original, 1));
        await s.release();
      }
    });
  }
});

describe.skipIf(!haveShared)('structured channel pruning', () => {
  it('ratio 0.3 on CIFAR ResNet-20 removes at least 40% of the parameters; same input and output shapes', async () => {
    const file = sharedModel('cnn/cifar10-resnet20.onnx');
    const model = loadModel(file);
    const report = await pruneModel(model, { method: 'channels', ratio: 0.3 });
    expect(1 - report.parameters.after / report.parameters.before).toBeGreaterThanOrEqual(0.4);
    expect(modelProblems(model)).toEqual([]);
    const feeds = generateFeeds(loadModel(file), 2);
    const s = await openSession(serializeModel(model));
    const out = await s.run(feeds);
    await s.release();
    expect(out.output!.dims).toEqual([1, 10]);
    expect(model.graph.inputs.map((i) => i.name)).toEqual(['input']);
  });

  it('residual, concat and depthwise models prune into valid graphs, skipped groups reported', async () => {
    const models = [...sharedModels(), ...npmModels()];
    let prunedGroups = 0;
    for (const m of models) {
      const model = loadModel(m.file);
      const report = await pruneModel(model, { method: 'channels', ratio: 0.3 });
      expect(modelProblems(model), m.id).toEqual([]);
      prunedGroups += report.groups!.filter((g) => !g.skipped).length;
      for (const g of report.groups!.filter((x) => x.skipped)) expect(g.skipped!.length, m.id).toBeGreaterThan(5);
      const s = await openSession(serializeModel(model));
      await s.run(generateFeeds(loadModel(m.file), 3));
      await s.release();
    }
    expect(prunedGroups).toBeGreaterThan(30);
  });
});

describe.skipIf(!haveShared)('accuracy on the mnist digits', () => {
  it('each method at two levels (printed), and sensitivity-chosen levels keep top-1 within 1 point at 50% sparsity', async () => {
    const file = sharedModel('mnist/mnist.onnx');
    const opts = { ...SCORING, plusMinusOne: true };
    const base = await mnistAccuracy(file, opts);
    const rows: string[] = [`float ${base.toFixed(2)}%`];
    for (const o of [{ method: 'magnitude', sparsity: 0.5 }, { method: 'magnitude', sparsity: 0.8 }, { method: 'nm', n: 2, m: 4 }, { method: 'nm', n: 1, m: 4 }, { method: 'channels', ratio: 0.25 }, { method: 'channels', ratio: 0.5 }] as PruneOptions[]) {
      const m = loadModel(file);
      await pruneModel(m, { ...o, keepEnds: false });
      rows.push(`${JSON.stringify(o)} ${(await mnistAccuracy(serializeModel(m), opts)).toFixed(2)}%`);
    }
    console.log(rows.join('\n'));
    const model = loadModel(file);
    const calibration = digitSamples('input', { from: 8000, count: 32, plusMinusOne: true, dims: [1, 1, 28, 28] }).samples;
    const layers = prunableLayers(model).layers.map((l) => l.name);
    const table = await layerSensitivity(model, calibration, layers);
    const levels = chooseLevels(table, 0.5);
    const report = await pruneModel(model, { method: 'magnitude', layerSparsity: levels, keepEnds: false });
    const total = report.layers.reduce((s, l) => s + l.sparsity! * table.find((t) => t.name === l.name)!.weights, 0) / table.reduce((s, t) => s + t.weights, 0);
    expect(total).toBeGreaterThanOrEqual(0.5);
    expect(base - (await mnistAccuracy(serializeModel(model), opts))).toBeLessThanOrEqual(1);
  });
});
