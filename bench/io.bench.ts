// Model I/O speed and memory: our load/save of a synthetic model with >= 512 MB of float
// weights, side by side with onnx.load/onnx.save (Debian python3-onnx, C++ protobuf) in
// the same run. Run: npx tsx bench/io.bench.ts
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { Graph, Model, Node } from '../src/ir/graph.js';
import { tensorType } from '../src/ir/graph.js';
import { Tensor } from '../src/ir/tensor.js';
import { loadModel } from '../src/onnx/load.js';
import { saveModel } from '../src/onnx/save.js';

const WEIGHT_MB = Number(process.env.IO_BENCH_MB ?? 512);

function syntheticModel(totalMb: number): Model {
  const g = new Graph('synthetic');
  const n = 1024;
  const layers = Math.ceil((totalMb * 1024 * 1024) / (n * n * 4));
  g.inputs.push({ name: 'x', type: tensorType(1, [1, n]) });
  let prev = 'x';
  for (let i = 0; i < layers; i++) {
    const w = new Float32Array(n * n);
    for (let k = 0; k < w.length; k += 97) w[k] = ((k * 2654435761) % 1000) / 1e6;
    g.initializers.set(`w${i}`, Tensor.fromFloat32(`w${i}`, [n, n], w));
    g.nodes.push(new Node({ opType: 'MatMul', inputs: [prev, `w${i}`], outputs: [`y${i}`], name: `mm${i}` }));
    prev = `y${i}`;
  }
  g.outputs.push({ name: prev, type: tensorType(1, [1, n]) });
  const m = new Model(g);
  m.irVersion = 8;
  m.opsetImport = [{ domain: '', version: 17 }];
  return m;
}

const PY = `
import json, sys, time, onnx
path, out = sys.argv[1], sys.argv[2]
loads, saves = [], []
for _ in range(5):
    t = time.perf_counter(); m = onnx.load(path); loads.append(time.perf_counter() - t)
    t = time.perf_counter(); onnx.save(m, out); saves.append(time.perf_counter() - t)
    del m
loads.sort(); saves.sort()
print(json.dumps({"loadMs": loads[2] * 1000, "saveMs": saves[2] * 1000}))
`;

const CHILD_RSS = `
import { loadModel } from './src/onnx/load.ts';
const before = process.memoryUsage().rss;
const m = loadModel(process.argv[1]);
const usage = process.resourceUsage();
console.log(JSON.stringify({ baselineRss: before, maxRss: usage.maxRSS * 1024, tensors: [...m.tensors()].length }));
`;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'onnxpress-io-bench-'));
  try {
    const file = join(dir, 'big.onnx');
    saveModel(syntheticModel(WEIGHT_MB), file, { externalData: false });
    const bytes = statSync(file).size;
    const mb = bytes / 2 ** 20;
    console.log(`synthetic model: ${mb.toFixed(0)} MiB`);

    const loaded = loadModel(file);
    const bench = new Bench({ iterations: 5, warmupIterations: 1, time: 0 });
    bench.add('onnxpress load', () => { loadModel(file); });
    bench.add('onnxpress save', () => { saveModel(loaded, join(dir, 'ours.onnx'), { externalData: false }); });
    await bench.run();
    const median = (name: string) => (bench.tasks.find((t) => t.name === name)!.result as { latency: { p50: number } }).latency.p50;

    const py = spawnSync('/usr/bin/python3', ['-c', PY, file, join(dir, 'py.onnx')], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const pyTimes = py.status === 0 ? JSON.parse(py.stdout) as { loadMs: number; saveMs: number } : undefined;

    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD_RSS, file], { encoding: 'utf8', cwd: process.cwd() });
    const rss = child.status === 0 ? JSON.parse(child.stdout.trim().split('\n').pop()!) : undefined;

    const rows = [
      { what: 'load', onnxpressMs: median('onnxpress load'), onnxMs: pyTimes?.loadMs },
      { what: 'save', onnxpressMs: median('onnxpress save'), onnxMs: pyTimes?.saveMs },
    ].map((r) => ({
      ...r,
      onnxpressMBs: +(mb / (r.onnxpressMs / 1000)).toFixed(0),
      onnxMBs: r.onnxMs ? +(mb / (r.onnxMs / 1000)).toFixed(0) : undefined,
      ratio: r.onnxMs ? +(r.onnxpressMs / r.onnxMs).toFixed(2) : undefined,
    }));
    console.table(rows);
    if (rss) {
      const added = (rss.maxRss - rss.baselineRss) / bytes;
      console.log(`peak memory added by load: ${added.toFixed(2)}x the file size (process peak ${(rss.maxRss / 2 ** 20).toFixed(0)} MiB over a ${(rss.baselineRss / 2 ** 20).toFixed(0)} MiB Node baseline)`);
    }
    else console.log('RSS child failed:', child.stderr.slice(0, 500));
    if (!pyTimes) console.log('python3-onnx not available:', py.stderr.slice(0, 300));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A model past protobuf's 2 GiB limit: saved with external data automatically, loaded and saved again. */
async function big(gib: number) {
  const dir = mkdtempSync(join(tmpdir(), 'onnxpress-io-big-'));
  try {
    const file = join(dir, 'big.onnx');
    const saved = saveModel(syntheticModel(gib * 1024), file);
    const total = saved.fileBytes + saved.externalBytes;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
      import { loadModel } from './src/onnx/load.ts';
      import { saveModel } from './src/onnx/save.ts';
      const before = process.memoryUsage().rss;
      let t = performance.now();
      const m = loadModel(process.argv[1]);
      const loadMs = performance.now() - t;
      t = performance.now();
      saveModel(m, process.argv[1] + '.copy.onnx');
      console.log(JSON.stringify({ baselineRss: before, maxRss: process.resourceUsage().maxRSS * 1024, loadMs, saveMs: performance.now() - t }));
    `, file], { encoding: 'utf8', cwd: process.cwd(), maxBuffer: 1 << 20 });
    if (child.status !== 0) { console.log('big model child failed:', child.stderr.slice(0, 500)); return; }
    const r = JSON.parse(child.stdout.trim().split('\n').pop()!);
    console.log(`\n${(total / 2 ** 30).toFixed(2)} GiB model (external data file ${saved.externalFile}): load ${(r.loadMs / 1000).toFixed(1)} s, save ${(r.saveMs / 1000).toFixed(1)} s; peak memory added ${((r.maxRss - r.baselineRss) / total).toFixed(2)}x the model's size`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
if (process.env.IO_BENCH_BIG_GIB) await big(Number(process.env.IO_BENCH_BIG_GIB));
