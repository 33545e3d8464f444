// The main job end to end: every target profile on real models with real inputs. Size and
// latency of the chosen candidate against the original come from compress's own side-by-side
// (interleaved) benchmark, so each ratio is measured in one run. npm run bench:compress
import { join } from 'node:path';
import { loadModel } from '../src/onnx/load.js';
import { compressModel } from '../src/compress.js';
import { targets } from '../src/targets/index.js';
import { readImage } from '../src/runtime/data/images.js';
import type { Sample } from '../src/runtime/samples.js';
import { ensureMnistModel, TRAIN_COUNT } from '../models/train-mnist.js';
import { readMnistDigits } from '../models/mnist-digits.js';
import { printTable, requireShared, SHARED } from './helpers.js';

requireShared();
const { images, labels } = readMnistDigits();
const digits: Sample[] = images.slice(TRAIN_COUNT, TRAIN_COUNT + 600).map((d) => ({ image: { type: 'float32', dims: [1, 1, 28, 28], data: d } }));
// A few photos repeated: enough to calibrate and time conv nets; accuracy is judged by cosine.
const faces = [1, 2].map((i) => ({ input: readImage(join(SHARED, `images/ultraface_imgs_${i}.jpg`), [1, 3, 240, 320], { scale: 1, mean: [127], std: [128] }) }));
const horse = { input: readImage(join(SHARED, 'images/cifar_horse5.png'), [1, 3, 32, 32]) };
const cases = [
  { name: 'example MLP (600 digits)', file: ensureMnistModel(), samples: digits, labels: labels.slice(TRAIN_COUNT, TRAIN_COUNT + 600), tolerances: { maxAccuracyDrop: 0.5 } },
  { name: 'cifar10-resnet20', file: join(SHARED, 'cnn/cifar10-resnet20.onnx'), samples: Array(6).fill(horse), tolerances: { minCosine: 0.98 } },
  { name: 'ultraface-rfb-320', file: join(SHARED, 'cnn/ultraface-rfb-320.onnx'), samples: [...faces, ...faces, ...faces], tolerances: { minCosine: 0.98 } },
];
const rows = [];
for (const c of cases) {
  for (const target of targets) {
    const { report } = await compressModel(loadModel(c.file), c.name, { target, tolerances: c.tolerances, data: { samples: c.samples, labels: c.labels, generated: false }, benchRuns: 60 });
    const chosen = report.candidates.find((k) => k.recipe === report.chosen) ?? report.candidates[0]!;
    const ratio = chosen.latencyMs!.p50 / report.original.latencyMs!.p50;
    rows.push({
      model: c.name, target: target.name, chosen: report.chosen ?? `(none: ${report.verdict.failed.map((f) => f.metric).join(', ')})`,
      sizeX: +(report.original.bytes / chosen.bytes).toFixed(2), brotliX: +(report.original.brotliBytes / chosen.brotliBytes).toFixed(2),
      origP50ms: +report.original.latencyMs!.p50.toFixed(3), p50ms: +chosen.latencyMs!.p50.toFixed(3), speedup: +(1 / ratio).toFixed(2),
      fidelity: chosen.accuracy ? `top-1 ${chosen.accuracy.delta >= 0 ? '+' : ''}${chosen.accuracy.delta.toFixed(2)}` : `cos ${Math.min(...Object.values(chosen.outputs).map((o) => o.cosine)).toFixed(4)}`,
      verdict: report.verdict.pass ? 'PASS' : 'FAIL',
    });
  }
}
printTable('compress, every profile (latency on the profile\'s own backend and threads; 60 interleaved runs per model)', rows);
