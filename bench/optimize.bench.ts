// optimize wall time beside onnxruntime's offline optimizer ('basic', optimizedModelFilePath)
// and onnx-simplifier's npm build, on the same real models in the same run; and session
// creation time of the optimized model against the original. npx tsx bench/optimize.bench.ts
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simplify } from 'onnxsim';
import { Bench } from 'tinybench';
import { loadModel } from '../src/onnx/load.js';
import { serializeModel } from '../src/onnx/save.js';
import { optimizeModel } from '../src/optimize.js';
import { openSession } from '../src/runtime/ort.js';
import { printTable, requireShared, SHARED } from './helpers.js';

requireShared();
const dir = mkdtempSync(join(tmpdir(), 'onnxpress-opt-bench-'));
const files = ['mnist/mnist-8.onnx', 'cnn/cifar10-resnet20.onnx', 'cnn/ultraface-rfb-320.onnx', 'light/light_resnet50.onnx', 'light/light_inception_v2.onnx'];
const rows = [];
const sessionRows = [];
for (const rel of files) {
  const file = join(SHARED, rel);
  const bytes = serializeModel(loadModel(file)); // inline weights, for onnxsim
  const bench = new Bench({ iterations: 5, warmupIterations: 1, time: 0 });
  bench.add('onnxpress optimize', async () => { const m = loadModel(file); await optimizeModel(m); serializeModel(m); });
  bench.add('onnxruntime basic (offline)', async () => { const s = await openSession(file, { optimization: 'basic', optimizedModelFilePath: join(dir, 'ort.onnx') }); await s.release(); });
  bench.add('onnxsim simplify', async () => { await simplify(bytes); });
  await bench.run();
  const p50 = (name: string) => (bench.tasks.find((t) => t.name === name)!.result as unknown as { latency: { p50: number } }).latency.p50;
  const ours = p50('onnxpress optimize');
  rows.push({ model: rel, onnxpressMs: +ours.toFixed(1), ortBasicMs: +p50('onnxruntime basic (offline)').toFixed(1), onnxsimMs: +p50('onnxsim simplify').toFixed(1), vsOrt: +(ours / p50('onnxruntime basic (offline)')).toFixed(2), vsOnnxsim: +(ours / p50('onnxsim simplify')).toFixed(2) });

  const optimized = loadModel(file);
  await optimizeModel(optimized);
  const optBytes = serializeModel(optimized);
  const origBytes = readFileSync(file);
  const create = new Bench({ iterations: 20, warmupIterations: 2, time: 0 });
  create.add('original', async () => { const s = await openSession(origBytes, { optimization: 'all' }); await s.release(); });
  create.add('optimized', async () => { const s = await openSession(optBytes, { optimization: 'all' }); await s.release(); });
  await create.run();
  const c = (name: string) => (create.tasks.find((t) => t.name === name)!.result as unknown as { latency: { p50: number } }).latency.p50;
  sessionRows.push({ model: rel, originalMs: +c('original').toFixed(2), optimizedMs: +c('optimized').toFixed(2), ratio: +(c('optimized') / c('original')).toFixed(2) });
}
printTable('optimize wall time (median of 5, whole job: load, optimize, serialize), ratios < 1 mean onnxpress is faster', rows);
printTable('session creation (onnxruntime-node, all optimizations; median of 20)', sessionRows);
