// ShuffleNet v1 (the ONNX model zoo architecture: ../shared's light graph, weights seeded by
// models/light-weights.ts) in float and int8-static, with and without the two passes that
// rewrite its channel shuffles as Gathers and its residual Sums as Adds: latency against the
// float model as optimized before those passes (onnxruntime-node, one thread, interleaved,
// tinybench medians, one run). npx tsx bench/shufflenet.bench.ts [--backend=wasm]
// (onnxruntime-web's WebAssembly kernels in Node, one thread)
import { join } from 'node:path';
import { loadModel } from '../src/onnx/load.js';
import { cloneModel } from '../src/onnx/clone.js';
import { serializeModel } from '../src/onnx/save.js';
import { benchModels } from '../src/measure/bench.js';
import { optimizeModel } from '../src/optimize.js';
import { quantizeModel } from '../src/quantize/index.js';
import { openSession } from '../src/runtime/ort.js';
import { generateSamples } from '../src/runtime/samples.js';
import { withSeededWeights } from '../models/light-weights.js';
import type { Model } from '../src/ir/graph.js';
import { printTable, requireShared, SHARED } from './helpers.js';

requireShared();
const backend = process.argv.includes('--backend=wasm') ? 'wasm' : 'node';
const original = loadModel(join(SHARED, 'light/light_shufflenet.onnx'));
withSeededWeights(original);
const s = await openSession(original);
const samples = generateSamples(s.inputs, 12, 1, {});
await s.release();

const NEW_PASSES = ['channel-shuffle-to-gather', 'sum-to-add'];
const variants: { label: string; model: Model; quantized?: string }[] = [];
for (const [label, skip] of [['before the passes', NEW_PASSES], ['with them', []]] as const) {
  const float = cloneModel(original);
  await optimizeModel(float, { skip: [...skip] });
  const int8 = cloneModel(float);
  const r = await quantizeModel(int8, { mode: 'int8-static', calibration: samples.slice(0, 8) });
  variants.push({ label: `float, ${label}`, model: float }, { label: `int8-static, ${label}`, model: int8, quantized: JSON.stringify(r.quantized) });
}
const b = await benchModels(variants.map((v) => ({ label: v.label, model: v.model })), { samples: samples.slice(8), timeMs: 8000, runs: 1000, quiet: true, backend });
printTable(`ShuffleNet v1, 224x224, onnxruntime-${backend === 'wasm' ? 'web (WebAssembly)' : 'node'}, one thread: speed = latency of the first row / latency of the row`, variants.map((v, i) => ({
  model: v.label,
  bytes: serializeModel(v.model).byteLength,
  p50ms: +b.models[i]!.latencyMs.p50.toFixed(2),
  speed: i ? `${(1 / b.ratios[i - 1]!.ratio).toFixed(2)}x${b.ratios[i - 1]!.noisy ? ' (noisy)' : ''}` : '1.00x',
  quantized: v.quantized ?? '',
})));
