// Quantization: int8 latency against float on conv- and matmul-heavy real models (one
// thread, interleaved), and the speed of weight conversion itself. npx tsx bench/quantize.bench.ts
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { loadModel } from '../src/onnx/load.js';
import { cloneModel } from '../src/onnx/clone.js';
import { benchModels } from '../src/measure/bench.js';
import { optimizeModel } from '../src/optimize.js';
import { quantizeModel } from '../src/quantize/index.js';
import { quantizeWeights } from '../src/quantize/quant-math.js';
import { toHalf } from '../src/quantize/fp16.js';
import { Tensor } from '../src/ir/tensor.js';
import { readImage } from '../src/runtime/data/images.js';
import { ensureMnistModel } from '../models/train-mnist.js';
import { readMnistDigits } from '../models/mnist-digits.js';
import { printTable, requireShared, SHARED } from './helpers.js';

/** Calibration for int8-static: minmax, which the README's tables were measured with (the default then); --method= for another. */
const METHOD = (process.argv.find((a) => a.startsWith('--method='))?.slice('--method='.length) ?? 'minmax') as 'minmax' | 'percentile' | 'entropy' | 'mse' | 'auto';

requireShared();
const digits = readMnistDigits().images.slice(8000, 8100).map((d) => ({ image: { type: 'float32', dims: [1, 1, 28, 28], data: d } }));
const cases = [
  { name: 'cifar10-resnet20 (conv)', file: join(SHARED, 'cnn/cifar10-resnet20.onnx'), samples: [{ input: readImage(join(SHARED, 'images/cifar_horse5.png'), [1, 3, 32, 32]) }] },
  { name: 'ultraface-rfb-320 (conv)', file: join(SHARED, 'cnn/ultraface-rfb-320.onnx'), samples: [1, 2].map((i) => ({ input: readImage(join(SHARED, `images/ultraface_imgs_${i}.jpg`), [1, 3, 240, 320], { scale: 1, mean: [127], std: [128] }) })) },
  { name: 'mnist.onnx (conv + big Gemm)', file: join(SHARED, 'mnist/mnist.onnx'), samples: digits.slice(0, 20).map((d) => ({ input: { ...d.image, data: (d.image.data as Float32Array).map((v) => v * 2 - 1) } })) },
  { name: 'example MLP (matmul)', file: ensureMnistModel(), samples: digits },
  { name: 'example MLP, batch 64 (matmul)', file: ensureMnistModel(), samples: [0, 1].map((b) => ({ image: { type: 'float32', dims: [64, 1, 28, 28], data: Float32Array.from(digits.slice(b * 32, b * 32 + 64).flatMap((d) => Array.from(d.image.data as Float32Array)).concat(new Array(Math.max(0, 64 - digits.slice(b * 32, b * 32 + 64).length) * 784).fill(0))) } })) },
];
const rows = [];
for (const c of cases) {
  const original = loadModel(c.file);
  const candidates = [];
  for (const mode of ['int8-static', 'int8-dynamic'] as const) {
    const m = cloneModel(original);
    await optimizeModel(m);
    await quantizeModel(m, { mode, calibration: c.samples, ...(mode === 'int8-static' ? { method: METHOD } : {}) });
    candidates.push({ label: mode, model: m });
  }
  const bench = await benchModels([{ label: 'float', model: c.file }, ...candidates], { runs: 200, threads: 1, samples: c.samples.slice(0, 4), quiet: true });
  rows.push({ model: c.name, floatP50ms: +bench.models[0]!.latencyMs.p50.toFixed(3), ...Object.fromEntries(bench.ratios.map((r) => [`${r.file} speed-up`, `${(1 / r.ratio).toFixed(2)}x${r.noisy ? ' (noisy)' : ''}`])) });
}
printTable('int8 against float, onnxruntime-node CPU, 1 thread, all graph optimizations, 200 interleaved runs', rows);

const weights = new Float32Array(16 * 1024 * 1024);
for (let i = 0; i < weights.length; i++) weights[i] = Math.sin(i) * 0.1;
const tensor = Tensor.fromFloat32('w', [4096, 4096], weights);
const bench = new Bench({ iterations: 10, time: 0 });
bench.add('int8 per-channel', () => { quantizeWeights(weights, [4096, 4096], { type: 'int8', symmetric: true }, 0); });
bench.add('fp16', () => { toHalf(tensor); });
await bench.run();
printTable('weight conversion, 16.8 M weights (median of 10)', bench.tasks.map((t) => {
  const p50 = (t.result as unknown as { latency: { p50: number } }).latency.p50;
  return { task: t.name, p50ms: +p50.toFixed(1), millionWeightsPerSecond: Math.round(weights.length / 1e6 / (p50 / 1000)) };
}));
