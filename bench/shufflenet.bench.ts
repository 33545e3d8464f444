// ShuffleNet v1 (the ONNX model zoo architecture: ../shared's light graph, weights seeded by
// models/light-weights.ts) and V2 x0.5 (torchvision's, as exported with a dynamic batch:
// models/shufflenet-v2.ts) in float and int8-static, with and without the passes that rewrite
// their channel shuffles as Gathers (v1: and its residual Sums as Adds; V2: and the Shape-built
// Reshape targets folded first): latency against the float model as optimized without those
// passes (onnxruntime-node, one thread, interleaved, tinybench medians, one run).
// npx tsx bench/shufflenet.bench.ts [--backend=wasm] (onnxruntime-web's WebAssembly kernels in
// Node, one thread); v1 is skipped without ../shared.
import { existsSync } from 'node:fs';
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
import { buildShuffleNetV2 } from '../models/shufflenet-v2.js';
import type { Model } from '../src/ir/graph.js';
import { printTable, SHARED } from './helpers.js';

const backend = process.argv.includes('--backend=wasm') ? 'wasm' : 'node';
const V1 = join(SHARED, 'light/light_shufflenet.onnx');
const nets: { name: string; model: () => Model; passes: string[] }[] = [
  { name: 'ShuffleNet v1', model: () => { const m = loadModel(V1); withSeededWeights(m); return m; }, passes: ['channel-shuffle-to-gather', 'sum-to-add'] },
  { name: 'ShuffleNet V2 x0.5, dynamic batch', model: () => buildShuffleNetV2(), passes: ['channel-shuffle-to-gather', 'fuse-shape-into-reshape'] },
];
if (!existsSync(V1)) { console.log(`${V1} is missing: ShuffleNet v1 skipped`); nets.shift(); }

for (const net of nets) {
  const original = net.model();
  const s = await openSession(original);
  const samples = generateSamples(s.inputs, 12, 1, {});
  await s.release();
  const variants: { label: string; model: Model; quantized?: string }[] = [];
  for (const [label, skip] of [['without the passes', net.passes], ['with them', []]] as const) {
    const float = cloneModel(original);
    await optimizeModel(float, { skip: [...skip] });
    const int8 = cloneModel(float);
    const r = await quantizeModel(int8, { mode: 'int8-static', calibration: samples.slice(0, 8) });
    variants.push({ label: `float, ${label}`, model: float }, { label: `int8-static, ${label}`, model: int8, quantized: JSON.stringify(r.quantized) });
  }
  const b = await benchModels(variants.map((v) => ({ label: v.label, model: v.model })), { samples: samples.slice(8), timeMs: 8000, runs: 1000, quiet: true, backend });
  printTable(`${net.name}, 224x224, onnxruntime-${backend === 'wasm' ? 'web (WebAssembly)' : 'node'}, one thread: speed = latency of the first row / latency of the row`, variants.map((v, i) => ({
    model: v.label,
    bytes: serializeModel(v.model).byteLength,
    p50ms: +b.models[i]!.latencyMs.p50.toFixed(2),
    speed: i ? `${(1 / b.ratios[i - 1]!.ratio).toFixed(2)}x${b.ratios[i - 1]!.noisy ? ' (noisy)' : ''}` : '1.00x',
    quantized: v.quantized ?? '',
  })));
}
