// Our int8 against a float model and, when one is given, its onnxruntime-quantized twin (a file
// a package ships beside the float one): bytes, output cosine against float on held-out inputs
// and latency against float (onnxruntime-node, 1 thread, interleaved medians, one run).
//   npx tsx bench/twins.bench.ts fp32.onnx [twin.onnx ...] [--data=DIR] [--scale=S --mean=M,.. --std=S,..]
//     [--range=LO,HI] [--samples=N] [--runs=N] [--no-latency] [--dump-calibration=DIR]
// --dump-calibration writes the calibration inputs as .npy files and stops, so that another
// quantizer (bench/ort-twins.py: onnxruntime's) calibrates on exactly the same data.
// --data: a samples folder (images, .npy, .pb; see runtime/samples.ts; images read as
// (pixel*scale - mean)/std); its first half calibrates, the second half scores. Without it,
// seeded generated inputs (calibration seed 1, scoring seed 2), values in [LO, HI) (default
// [0, 1)): the table's title says which. Where plain int8-static misses cosine 0.99 on the
// scoring inputs, a mixed-precision row (minCosine 0.99, 16-bit fallback) is added.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { encodeNpy } from '../src/runtime/data/npy.js';
import { loadModel } from '../src/onnx/load.js';
import { cloneModel } from '../src/onnx/clone.js';
import { benchModels, sizeOf, type BenchSource } from '../src/measure/bench.js';
import { Accumulator } from '../src/measure/eval.js';
import { optimizeModel } from '../src/optimize.js';
import { quantizeModel, type QuantizeOptions, type QuantizeReport } from '../src/quantize/index.js';
import { openSession, runSamples, type HostTensor } from '../src/runtime/ort.js';
import { generateSamples, loadSamples, type Sample } from '../src/runtime/samples.js';
import type { Model } from '../src/ir/graph.js';
import { printTable } from './helpers.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const [floatFile, ...twinFiles] = args.filter((a) => !a.startsWith('--'));
if (!floatFile) {
  console.error('usage: npx tsx bench/twins.bench.ts fp32.onnx [twin.onnx ...] [--data=DIR] [--scale=S --mean=M,.. --std=S,..] [--range=LO,HI] [--samples=N] [--runs=N] [--no-latency] [--dump-calibration=DIR]');
  process.exit(2);
}
const count = Number(flag('samples') ?? 32);
const MIN_COSINE = 0.99;

async function inputsOf(file: string): Promise<{ calibration: Sample[]; scoring: Sample[]; origin: string }> {
  const s = await openSession(file);
  const specs = s.inputs;
  await s.release();
  const dir = flag('data');
  if (dir) {
    const nums = (name: string) => flag(name)?.split(',').map(Number);
    const image = { scale: flag('scale') ? Number(flag('scale')) : undefined, mean: nums('mean'), std: nums('std') };
    const { samples } = loadSamples(dir, specs, { limit: 2 * count, image });
    const half = Math.ceil(samples.length / 2);
    return { calibration: samples.slice(0, half), scoring: samples.slice(half), origin: `${dir}: ${half} calibrate, ${samples.length - half} score` };
  }
  const range = (flag('range') ?? '0,1').split(',').map(Number) as [number, number];
  const ranges = Object.fromEntries(specs.filter((x) => x.type.startsWith('float')).map((x) => [x.name, range]));
  return { calibration: generateSamples(specs, count, 1, { ranges }), scoring: generateSamples(specs, count, 2, { ranges }), origin: `generated in [${range}): ${count} calibrate (seed 1), ${count} score (seed 2)` };
}

/** The worst output's cosine against float over all scoring samples. */
function worstCosine(ref: Record<string, HostTensor>[], got: Record<string, HostTensor>[]): number {
  const acc = new Map<string, Accumulator>();
  ref.forEach((r, i) => {
    for (const [name, t] of Object.entries(r)) {
      if (!(t.data instanceof Float32Array)) continue;
      if (!acc.has(name)) acc.set(name, new Accumulator());
      acc.get(name)!.add(t, got[i]![name]!);
    }
  });
  return Math.min(...[...acc.values()].map((a) => a.metrics().cosine));
}

const { calibration, scoring, origin } = await inputsOf(floatFile);
const dumpDir = flag('dump-calibration');
if (dumpDir) {
  // One input: DIR/NNN.npy; several: DIR/<input name>/NNN.npy (as runtime/samples.ts reads them).
  calibration.forEach((s, i) => {
    const entries = Object.entries(s);
    for (const [name, t] of entries) {
      const dir = entries.length > 1 ? join(dumpDir, name) : dumpDir;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${String(i).padStart(3, '0')}.npy`), encodeNpy(t));
    }
  });
  console.log(`${calibration.length} calibration inputs written to ${dumpDir}`);
  process.exit(0);
}
const float = loadModel(floatFile);
await optimizeModel(float);
const variants: { label: string; model: Model | string; report?: QuantizeReport; seconds?: number }[] = [{ label: 'fp32 (optimized)', model: float }];
async function ours(label: string, options: QuantizeOptions): Promise<QuantizeReport | undefined> {
  const m = cloneModel(float);
  const t = performance.now();
  try {
    const report = await quantizeModel(m, options);
    variants.push({ label, model: m, report, seconds: (performance.now() - t) / 1000 });
    return report;
  } catch (err) {
    console.log(`${label}: ${(err as Error).message}`);
    return undefined;
  }
}
// minmax, as onnxruntime's quantizer calibrates the twins, unless --method= asks for another.
const method = (flag('method') ?? 'minmax') as QuantizeOptions['method'];
await ours('ours int8-static', { mode: 'int8-static', calibration, method });
await ours('ours int8-dynamic', { mode: 'int8-dynamic' });
for (const f of twinFiles) variants.push({ label: `twin ${basename(f)}`, model: f });

const ref = await runSamples(float, scoring, { optimization: 'all' });
const cosines = new Map<string, number>();
for (const v of variants.slice(1)) cosines.set(v.label, worstCosine(ref, await runSamples(v.model, scoring, { optimization: 'all' })));
if ((cosines.get('ours int8-static') ?? 1) < MIN_COSINE) {
  const label = `ours mixed (minCosine ${MIN_COSINE}, 16-bit)`;
  if (await ours(label, { mode: 'int8-static', calibration, method, minCosine: MIN_COSINE, fallback: '16-bit' })) {
    cosines.set(label, worstCosine(ref, await runSamples(variants.at(-1)!.model, scoring, { optimization: 'all' })));
  }
}

let speed = new Map<string, string>();
if (!args.includes('--no-latency')) {
  const sources: BenchSource[] = variants.map((v) => ({ label: v.label, model: v.model }));
  const b = await benchModels(sources, { runs: Number(flag('runs') ?? 60), threads: 1, samples: scoring.slice(0, 4), quiet: true });
  speed = new Map(b.ratios.map((r) => [r.file, `${(1 / r.ratio).toFixed(2)}x${r.noisy ? ' (noisy)' : ''}`]));
  speed.set(variants[0]!.label, `p50 ${b.models[0]!.latencyMs.p50.toFixed(2)} ms`);
}
const bytes = (m: Model | string) => sizeOf(m).bytes;
const floatBytes = bytes(float);
printTable(`${basename(floatFile)}: ${origin}; cosine = worst output's, on the scoring inputs; speed = fp32 latency / model latency`, variants.map((v) => ({
  model: v.label,
  bytes: bytes(v.model),
  smaller: `${(floatBytes / bytes(v.model)).toFixed(2)}x`,
  cosine: cosines.has(v.label) ? +cosines.get(v.label)!.toFixed(4) : 1,
  speed: speed.get(v.label) ?? 'not measured',
  quantized: v.report ? JSON.stringify(v.report.quantized) : '',
  widened: v.report?.tolerance?.widened.length ?? '',
  // Mixed precision measures its tolerance on the calibration inputs: before -> after there.
  calibrationCosine: v.report?.tolerance ? `${v.report.tolerance.before.toFixed(4)} -> ${v.report.tolerance.after.toFixed(4)}${v.report.tolerance.met ? '' : ' (missed)'}` : '',
  seconds: v.seconds !== undefined ? +v.seconds.toFixed(1) : '',
})));
