// int8-static (QDQ) on the three PP-OCR models against float: calibrate on the first 32
// images of ../shared/data/ocr/KIND, score on the other 32, size, and latency (onnxruntime-node,
// one thread, interleaved, tinybench medians). npx tsx bench/qdq.bench.ts [det|rec|cls ...] [--no-latency]
// [--method=entropy|percentile|mse|auto] [--min-cosine=0.99] [--fallback=16-bit] [--activation-type=uint16] [--large-depthwise=float]
// [--exclude-op-types=A,B] [--placement=wasm] [--dominant-share=S] [--verbose]
// [--backend=wasm|browser]: time in onnxruntime-web (WebAssembly, one thread) in Node, or in
// headless Chromium's WebAssembly-only build (scores are onnxruntime-node's either way).
// [--twins=PATH{kind}.onnx,...]: other int8 files of the same models (e.g. onnxruntime's quantizer
// output, made by bench/ort-twins.py), each scored, sized and timed beside ours in the same run.
import { existsSync, readFileSync } from 'node:fs';
import { loadModel } from '../src/onnx/load.js';
import { cloneModel } from '../src/onnx/clone.js';
import { serializeModel } from '../src/onnx/save.js';
import { benchModels, type BenchReport } from '../src/measure/bench.js';
import { benchInBrowser } from '../src/measure/browser-bench.js';
import { optimizeModel } from '../src/optimize.js';
import { quantizeModel } from '../src/quantize/index.js';
import { openSession } from '../src/runtime/ort.js';
import type { Model } from '../src/ir/graph.js';
import type { Sample } from '../src/runtime/samples.js';
import { printTable } from './helpers.js';
import { OCR_DATA_DIR, OCR_MODELS, clsScore, detScore, ocrSet, recScore, type OcrKind } from './ocr-data.js';

if (!existsSync(OCR_DATA_DIR)) {
  console.error(`${OCR_DATA_DIR} is missing: this benchmark scores on the rendered OCR images beside the checkout`);
  process.exit(2);
}
const args = process.argv.slice(2);
const kinds = (args.filter((a) => !a.startsWith('--')) as OcrKind[]);
const latency = !args.includes('--no-latency');
const flag = (name: string) => { const a = args.find((x) => x.startsWith(`--${name}=`)); return a?.slice(name.length + 3); };
const extra = { method: flag('method') as 'minmax' | 'entropy' | 'percentile' | 'mse' | 'auto' | undefined, minCosine: flag('min-cosine') ? Number(flag('min-cosine')) : undefined, largeDepthwise: flag('large-depthwise') as 'float' | undefined, excludeOpTypes: flag('exclude-op-types')?.split(','), fallback: flag('fallback') as '16-bit' | undefined, activationType: flag('activation-type') as 'uint16' | undefined, placement: flag('placement') as 'wasm' | undefined, dominantShare: flag('dominant-share') ? Number(flag('dominant-share')) : undefined };
const backend = flag('backend') ?? 'node';

async function outputsOf(model: Model, samples: Sample[]) {
  const s = await openSession(model, { optimization: 'all' });
  try {
    const out = [];
    for (const x of samples) out.push(await s.run(x));
    return out;
  } finally {
    await s.release();
  }
}

const twinPatterns = flag('twins')?.split(',') ?? [];

const rows = [];
for (const kind of kinds.length ? kinds : (['rec', 'cls', 'det'] as OcrKind[])) {
  const set = ocrSet(kind);
  const calibration = set.samples.slice(0, 32), scoring = set.samples.slice(32), truth = set.truth?.slice(32);
  const float = loadModel(OCR_MODELS[kind]);
  await optimizeModel(float);
  const int8 = cloneModel(float);
  const t = performance.now();
  const report = await quantizeModel(int8, { mode: 'int8-static', calibration, ...extra });
  const seconds = (performance.now() - t) / 1000;
  const twins = twinPatterns.map((p) => p.replaceAll('{kind}', kind)).filter((f) => existsSync(f));
  // A twin's size is its file's, as onnxruntime's quantizer wrote it.
  const candidates: { label: string; model: Model; bytes: number }[] = [{ label: 'ours', model: int8, bytes: serializeModel(int8).byteLength }, ...twins.map((f) => ({ label: f.split('/').pop()!, model: loadModel(f), bytes: readFileSync(f).byteLength }))];
  const ref = await outputsOf(float, scoring);
  const score = (o: typeof ref) => kind === 'rec' ? recScore(o, truth as string[]) : kind === 'cls' ? { accuracy: clsScore(o, truth as number[]) } : {};
  const floatBytes = serializeModel(float).byteLength;
  const speedups: string[] = [];
  if (latency) {
    const sources = [{ label: 'float', model: float }, ...candidates];
    const b: BenchReport = backend === 'browser' ? await benchInBrowser(sources, { runs: 30, samples: scoring.slice(0, 4), build: 'wasm-only' })
      : await benchModels(sources, { runs: backend === 'wasm' ? 20 : 60, threads: 1, samples: scoring.slice(0, 4), quiet: true, backend: backend === 'wasm' ? 'wasm' : 'node' });
    b.ratios.forEach((r) => speedups.push(`${(1 / r.ratio).toFixed(2)}x${r.noisy ? ' (noisy)' : ''} (float p50 ${b.models[0]!.latencyMs.p50.toFixed(1)} ms)`));
  }
  for (const [i, c] of candidates.entries()) {
    const got = await outputsOf(c.model, scoring);
    const quality = kind === 'det' ? detScore(ref, got) : { float: score(ref), int8: score(got) };
    const mine = i === 0;
    rows.push({ model: kind, file: c.label, quality: JSON.stringify(quality, (_, v) => (typeof v === 'number' ? +v.toFixed(4) : v)), smaller: `${(floatBytes / c.bytes).toFixed(2)}x`, speedup: speedups[i] ?? 'not measured', quantizeSeconds: mine ? +seconds.toFixed(1) : '', quantized: mine ? JSON.stringify(report.quantized) : '', leftInFloat: mine ? report.leftInFloat.length : '', returnedToFloat: mine ? report.tolerance?.returnedToFloat.length : '', widened: mine ? report.tolerance?.widened.length : '' });
  }
  if (args.includes('--verbose')) console.log(kind, report.leftInFloat.slice(0, 60), report.warnings);
}
printTable(`PP-OCR int8-static vs float: calibrated on 32 images, scored on 32 others; latency in ${backend === 'node' ? 'onnxruntime-node' : backend === 'wasm' ? 'onnxruntime-web (WebAssembly) in Node' : 'headless Chromium (onnxruntime-web, WebAssembly-only build)'}`, rows);
