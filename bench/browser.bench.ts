// The wasm target judged where it ships: compress --target wasm with the target's defaults on
// the example MLP, the shared MNIST nets and CIFAR ResNet-20, timed in headless Chromium. For
// each, the recipe chosen and, per onnxruntime-web build, its steady and cold-start ratios to
// the original (one interleaved run each), and how far the three runtimes disagree on it.
// npx tsx bench/browser.bench.ts (needs Debian chromium, or CHROMIUM_PATH)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../src/onnx/load.js';
import { compressModel } from '../src/compress.js';
import { browserUnavailable } from '../src/runtime/browser.js';
import { openSession } from '../src/runtime/ort.js';
import { generateSamples, type Sample } from '../src/runtime/samples.js';
import { worstAgreement } from '../src/measure/agreement.js';
import { ensureMnistModel, TRAIN_COUNT } from '../models/train-mnist.js';
import { readMnistDigits } from '../models/mnist-digits.js';
import { printTable, SHARED } from './helpers.js';

const why = browserUnavailable();
if (why) {
  console.error(`no browser: ${why}`);
  process.exit(2);
}
const { images, labels } = readMnistDigits();
const range = [TRAIN_COUNT, TRAIN_COUNT + 300] as const;
const digits = (input: string, dims: number[]): Sample[] => images.slice(...range).map((d) => ({ [input]: { type: 'float32', dims, data: d } }));
const resnet = join(SHARED, 'cnn/cifar10-resnet20.onnx');
const cases = [
  { name: 'example MLP', file: ensureMnistModel(), samples: digits('image', [1, 1, 28, 28]), labels: labels.slice(...range) },
  { name: 'mnist-8', file: join(SHARED, 'mnist/mnist-8.onnx'), samples: digits('Input3', [1, 1, 28, 28]), labels: labels.slice(...range) },
  // No CIFAR images beside the model: seeded inputs, judged on agreement with the original.
  { name: 'cifar10-resnet20', file: resnet, samples: undefined, labels: undefined },
].filter((c) => existsSync(c.file));

const rows = [];
for (const c of cases) {
  const session = await openSession(c.file);
  const samples = c.samples ?? generateSamples(session.inputs, 100, 1);
  await session.release();
  const { report } = await compressModel(loadModel(c.file), c.name, { target: 'wasm', tolerances: {}, data: { samples, labels: c.labels, generated: !c.samples }, benchRuns: 30 });
  const shown = report.candidates.find((k) => k.recipe === report.chosen) ?? report.candidates[0]!;
  const agree = report.agreement && worstAgreement(report.agreement.candidate);
  for (const f of shown.browser ?? []) {
    const o = report.original.browser!.find((g) => g.build === f.build)!;
    rows.push({
      model: c.name, chosen: report.chosen ?? `(none; ${shown.recipe} shown)`, build: f.build,
      'steady ms orig': +o.steadyP50Ms.toFixed(3), 'steady ms cand': +f.steadyP50Ms.toFixed(3), 'steady x': +f.steadyRatio.toFixed(2),
      'cold ms orig': +o.coldMs.toFixed(0), 'cold ms cand': +f.coldMs.toFixed(0), 'cold x': +f.coldRatio.toFixed(2),
      'runtimes min cos': agree ? +agree.cosine.toFixed(6) : '-', verdict: report.verdict.pass ? 'PASS' : `FAIL ${report.verdict.failed.map((k) => k.metric).join(',')}`,
    });
  }
}
printTable('wasm target in headless Chromium (verdict reads the wasm-only build, steady)', rows);
