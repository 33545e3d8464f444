// Pruning without retraining, measured in one run: per model x method x ratio, accuracy (or
// agreement with the float model) without data, with data-aware scores only, and with
// reconstruction; size; latency against the original (one thread, interleaved tinybench
// rounds); and for reconstruction its time and memory. Calibration and scoring use
// different inputs. npx tsx bench/prune.bench.ts  (PRUNE_BENCH_RUNS=300 by default)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../src/ir/graph.js';
import { loadModel } from '../src/onnx/load.js';
import { serializeModel } from '../src/onnx/save.js';
import { optimizeModel } from '../src/optimize.js';
import { benchModels, sizeOf } from '../src/measure/bench.js';
import { runSamples } from '../src/runtime/ort.js';
import { generateSamples, type Sample } from '../src/runtime/samples.js';
import { pruneModel, type PruneOptions, type PruneReport } from '../src/prune/index.js';
import { ensureMnistModel } from '../models/train-mnist.js';
import { digitSamples, mnistAccuracy } from '../test/helpers/mnist.js';
import { correct, OCR_DATA_DIR, OCR_MODELS, ocrImages, textMapOverlap } from '../test/prune/ocr.js';
import { printTable, SHARED } from './helpers.js';

const RUNS = Number(process.env.PRUNE_BENCH_RUNS ?? 300);

interface Case {
  model: string;
  file: string;
  /** The model as pruning sees it (optimized where the command would optimize). */
  load: () => Promise<Model>;
  calibration: Sample[];
  /** Accuracy or agreement of a model, in percent (or IoU). */
  quality: (m: Model) => Promise<number>;
  qualityName: string;
  methods: PruneOptions[];
  benchSamples?: Sample[];
}

/** The model as the prune command sees it: optimized (BatchNorm folded, constants made initializers). */
const optimized = (file: string) => async () => { const m = loadModel(file); await optimizeModel(m); return m; };

function mnistCase(name: string, file: string, plusMinusOne: boolean, calibration: number): Case {
  const input = loadModel(file).graph.inputs[0]!.name;
  return {
    model: name, file, load: optimized(file), qualityName: 'top-1 % (digits 9000..9999)',
    calibration: digitSamples(input, { from: 8000, count: calibration, plusMinusOne, dims: [1, 1, 28, 28] }).samples,
    quality: (m) => mnistAccuracy(serializeModel(m), { from: 9000, count: 1000, plusMinusOne }),
    methods: [{ method: 'magnitude', sparsity: 0.5 }, { method: 'nm', n: 2, m: 4 }, { method: 'channels', ratio: 0.25 }, { method: 'channels', ratio: 0.5 }],
  };
}

const cases: Case[] = [mnistCase('MNIST MLP (models/)', ensureMnistModel(), false, 256)];
if (existsSync(join(SHARED, 'mnist/mnist.onnx'))) cases.push(mnistCase('MNIST CNN (PyTorch)', join(SHARED, 'mnist/mnist.onnx'), true, 64));
if (existsSync(join(SHARED, 'cnn/cifar10-resnet20.onnx'))) {
  // No labelled CIFAR images in ../shared: agreement of the top-1 class with the float model on seeded random inputs.
  const file = join(SHARED, 'cnn/cifar10-resnet20.onnx');
  const specs = [{ name: 'input', type: 'float32', dims: [1, 3, 32, 32] }];
  const scoring = generateSamples(specs, 64, 2, { ranges: { input: [-2, 2] } });
  const top1 = (outs: Record<string, { data: unknown }>[]) => outs.map((o) => { const d = Object.values(o)[0]!.data as Float32Array; return d.indexOf(Math.max(...d)); });
  const reference = top1(await runSamples(file, scoring));
  cases.push({
    model: 'CIFAR ResNet-20', file, load: optimized(file), calibration: generateSamples(specs, 32, 1, { ranges: { input: [-2, 2] } }),
    qualityName: 'top-1 agreement with float, % (64 random inputs)',
    quality: async (m) => { const got = top1(await runSamples(serializeModel(m), scoring)); return (100 * got.filter((g, i) => g === reference[i]).length) / got.length; },
    methods: [{ method: 'channels', ratio: 0.3 }],
  });
}
if (existsSync(OCR_DATA_DIR)) {
  // Two folds: each half of the images calibrates once and is scored once.
  const cls = ocrImages('cls');
  const half = cls.samples.length / 2;
  for (const [fold, cal, test] of [['A', [0, half], [half, cls.samples.length]], ['B', [half, cls.samples.length], [0, half]]] as const) {
    const testSamples = cls.samples.slice(...test), labels = cls.labels!.slice(...test);
    cases.push({
      model: `PP-OCR classifier, fold ${fold}`, file: OCR_MODELS.cls, load: optimized(OCR_MODELS.cls), calibration: cls.samples.slice(...cal),
      qualityName: `orientation accuracy % (${testSamples.length} held-out images)`,
      quality: async (m) => (100 * correct(await runSamples(serializeModel(m), testSamples), labels)) / testSamples.length,
      methods: [{ method: 'channels', ratio: 0.3 }], benchSamples: testSamples.slice(0, 4),
    });
  }
  const det = ocrImages('det');
  const detTest = det.samples.slice(16);
  const reference = await runSamples(serializeModel(await optimized(OCR_MODELS.det)()), detTest);
  cases.push({
    model: 'PP-OCR detector', file: OCR_MODELS.det, load: optimized(OCR_MODELS.det), calibration: det.samples.slice(0, 16),
    qualityName: `text-map IoU vs float, % (${detTest.length} held-out images)`,
    quality: async (m) => { const o = textMapOverlap(reference, await runSamples(serializeModel(m), detTest)); return (100 * o.intersection) / o.union; },
    methods: [{ method: 'channels', ratio: 0.2 }, { method: 'channels', ratio: 0.3 }], benchSamples: detTest.slice(0, 4),
  });
} else console.log(`${OCR_DATA_DIR} is missing: the PP-OCR rows are left out`);

const rows: Record<string, unknown>[] = [];
for (const c of cases) {
  const original = await c.load();
  const float = await c.quality(original);
  for (const options of c.methods) {
    const quality: Record<string, number> = {};
    let report: PruneReport | undefined;
    let reconstructed: Model | undefined;
    let seconds = 0, rssGrowthMb = 0;
    for (const [mode, extra] of [['noData', {}], ['scores', { calibration: c.calibration, reconstruct: false }], ['reconstructed', { calibration: c.calibration }]] as const) {
      const m = await c.load();
      const rss = process.memoryUsage().rss;
      const t = performance.now();
      const r = await pruneModel(m, { ...options, keepEnds: false, statistics: { quiet: true }, ...extra });
      if (mode === 'reconstructed') { seconds = (performance.now() - t) / 1000; rssGrowthMb = (process.memoryUsage().rss - rss) / 1e6; report = r; reconstructed = m; }
      quality[mode] = await c.quality(m);
    }
    const bench = await benchModels([{ label: 'original', model: original }, { label: 'pruned', model: reconstructed! }], { runs: RUNS, threads: 1, quiet: true, samples: c.benchSamples });
    const size = sizeOf(reconstructed!), sizeBefore = sizeOf(original);
    const label = options.method === 'nm' ? `nm ${options.n}:${options.m}` : options.method === 'channels' ? `channels ${options.ratio}` : `magnitude ${options.sparsity}`;
    rows.push({
      model: c.model, method: label, metric: c.qualityName, float: +float.toFixed(1),
      noData: +quality.noData!.toFixed(1), scoresOnly: +quality.scores!.toFixed(1), reconstructed: +quality.reconstructed!.toFixed(1),
      'gzip KB': `${(sizeBefore.gzipBytes / 1024).toFixed(0)} -> ${(size.gzipBytes / 1024).toFixed(0)}`,
      latencyRatio: +bench.ratios[0]!.ratio.toFixed(3), ci95: bench.ratios[0]!.ci95.map((v) => +v.toFixed(3)).join('..'),
      reconstructS: +seconds.toFixed(1), 'statsMB/modelMB': `${(report!.calibration!.peakPassBytes / 1e6).toFixed(1)}/${(sizeBefore.bytes / 1e6).toFixed(1)}`, rssGrowthMb: +rssGrowthMb.toFixed(0),
    });
    console.error(`done: ${c.model} ${label}`);
  }
}
printTable(`Pruning without retraining (calibrate on some inputs, score on others); latency: pruned/original p50, onnxruntime-node CPU, 1 thread, ${RUNS} interleaved runs`, rows);
