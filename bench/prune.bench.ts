// Structured pruning speed-up: CIFAR ResNet-20 before and after channel pruning at ratio
// 0.3, timed side by side (interleaved tinybench rounds), one thread. npx tsx bench/prune.bench.ts
import { join } from 'node:path';
import { loadModel } from '../src/onnx/load.js';
import { benchModels } from '../src/measure/bench.js';
import { optimizeModel } from '../src/optimize.js';
import { pruneModel } from '../src/prune/index.js';
import { printTable, requireShared, SHARED } from './helpers.js';

requireShared();
const file = join(SHARED, 'cnn/cifar10-resnet20.onnx');
const rows = [];
for (const ratio of [0.3, 0.5]) {
  const pruned = loadModel(file);
  await optimizeModel(pruned); // channel pruning works on the optimized graph
  const report = await pruneModel(pruned, { method: 'channels', ratio });
  const bench = await benchModels([{ label: 'original', model: file }, { label: `channels ${ratio}`, model: pruned }], { runs: 300, threads: 1, quiet: true });
  const [a, b] = bench.models;
  rows.push({ ratio, paramsBefore: report.parameters.before, paramsAfter: report.parameters.after, originalP50ms: +a!.latencyMs.p50.toFixed(3), prunedP50ms: +b!.latencyMs.p50.toFixed(3), latencyRatio: +bench.ratios[0]!.ratio.toFixed(3), ci95: bench.ratios[0]!.ci95.map((v) => +v.toFixed(3)), noisy: bench.ratios[0]!.noisy });
}
printTable('ResNet-20 (CIFAR-10), channel pruning, onnxruntime-node CPU, 1 thread, 300 interleaved runs', rows);
