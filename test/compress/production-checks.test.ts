// "Did no harm" as production reads it: a candidate that loses one class (or one slice) badly
// fails even when overall top-1 stays within tolerance; data that no longer fits the
// calibrated ranges fails --max-clip-rate. Built on the MNIST MLP a clone makes.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gateModels } from '../../src/gate.js';
import { compressModel } from '../../src/compress.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { loadModel } from '../../src/onnx/load.js';
import { saveModel } from '../../src/onnx/save.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { quantizeModel } from '../../src/quantize/index.js';
import type { Model } from '../../src/ir/graph.js';
import { exportMnistDigits } from '../../models/export-mnist-digits.js';
import { ensureMnistModel, TRAIN_COUNT } from '../../models/train-mnist.js';
import { runCli } from '../helpers/cli.js';
import { digitSamples, handicapClass } from '../helpers/mnist.js';


const original = loadModel(ensureMnistModel());
const input = original.graph.inputs[0]!.name;
const { samples, labels } = digitSamples(input, { from: TRAIN_COUNT, count: 600 });

describe('per-class and per-slice tolerances', () => {
  it('one class hurt badly: overall top-1 within tolerance, --max-class-drop fails naming the class', async () => {
    const report = await gateModels(original, 'mlp.onnx', handicapClass(original, 3, 4), 'hurt.onnx', { tolerances: { maxAccuracyDrop: 10, maxClassDrop: 10, minMacroF1Ratio: 0.5 }, data: { samples, labels, generated: false }, benchRuns: 5 });
    const c = report.candidates[0]!;
    const byMetric = new Map(report.verdict.checks.map((k) => [k.metric, k]));
    expect(byMetric.get('maxAccuracyDrop')!.pass).toBe(true);
    expect(byMetric.get('minMacroF1Ratio')!.pass).toBe(true);
    expect(byMetric.get('maxClassDrop')!.pass).toBe(false);
    expect(byMetric.get('maxClassDrop')!.note).toMatch(/^recall lost, in points: class 3 /);
    expect(c.classes!.deltas[0]!.label).toBe(3);
    expect(report.verdict.failed.map((k) => k.metric)).toEqual(['maxClassDrop']);
  });

  it('the same model with its own copy passes every per-class check', async () => {
    const report = await gateModels(original, 'mlp.onnx', cloneModel(original), 'same.onnx', { tolerances: { maxClassDrop: 0, minMacroF1Ratio: 1 }, data: { samples, labels, generated: false }, benchRuns: 5 });
    expect(report.verdict.pass).toBe(true);
  });

  it('CLI: a slice file with a hurt slice fails --max-slice-drop; a slice of 3 samples is too small to judge', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-slices-'));
    const data = join(dir, 'digits');
    exportMnistDigits(data, { offset: TRAIN_COUNT, count: 600 });
    // labels.json lists the digits in file order.
    const truth = JSON.parse(readFileSync(join(data, 'labels.json'), 'utf8')) as number[];
    const files = readdirSync(data).filter((f) => f.endsWith('.npy')).sort();
    // 'tiny': three 5s from the held-out part (gate keeps the first 30% for calibration).
    let tiny = 0;
    const slices = Object.fromEntries(files.map((file, i) => [file, truth[i] === 3 ? 'threes' : truth[i] === 5 && i >= 300 && tiny++ < 3 ? 'tiny' : 'rest']));
    writeFileSync(join(dir, 'slices.json'), JSON.stringify(slices));
    const hurt = join(dir, 'hurt.onnx');
    saveModel(handicapClass(original, 3, 4), hurt);
    const r = runCli(['gate', ensureMnistModel(), hurt, '--data', data, '--samples', '600', '--slices', join(dir, 'slices.json'), '--max-accuracy-drop', '10', '--max-slice-drop', '10', '--runs', '5', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.verdict.failed.map((k: { metric: string }) => k.metric)).toEqual(['maxSliceDrop']);
    expect(report.verdict.failed[0].note).toMatch(/threes/);
    const bySlice = new Map(report.candidates[0].slices.map((s: { slice: string }) => [s.slice, s]));
    expect(bySlice.get('tiny')).toMatchObject({ samples: 3, tooSmall: true });
    // A slice file naming a sample the data does not have is bad input: one line, exit 2.
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...slices, 'no-such-digit.npy': 'rest' }));
    const bad = runCli(['gate', ensureMnistModel(), hurt, '--data', data, '--slices', join(dir, 'bad.json'), '--max-slice-drop', '10']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n').at(-1)).toMatch(/bad\.json: names 1 sample\(s\) not in the data, e\.g\. 'no-such-digit\.npy'/);
  });
});

describe('calibration-range drift: --max-clip-rate', () => {
  const quantized = async (keep: (label: number) => boolean) => {
    const m = cloneModel(original);
    await quantizeModel(m, { mode: 'int8-static', method: 'minmax', calibration: samples.slice(0, 180).filter((_, i) => keep(labels[i]!)) });
    return m;
  };
  // gate holds the first 30% (180 samples) apart as calibration; the rest is the production-like data.
  const gate = async (m: Model) => gateModels(original, 'mlp.onnx', m, 'int8.onnx', { tolerances: { maxClipRate: 0.005 }, data: { samples, labels, generated: false }, benchRuns: 5 });

  it('calibrated on the digit 1 only, gated on all digits: fails naming the saturated tensors', async () => {
    const report = await gate(await quantized((l) => l === 1));
    const check = report.verdict.checks.find((k) => k.metric === 'maxClipRate')!;
    expect(check.pass).toBe(false);
    expect(check.note).toMatch(/^saturated beyond the calibrated range: \w+ \d/);
    expect(report.candidates[0]!.clip!.tensors.length).toBeGreaterThan(1);
  });

  it('calibrated on all digits: passes', async () => {
    const report = await gate(await quantized(() => true));
    expect(report.verdict.checks.find((k) => k.metric === 'maxClipRate')!.pass).toBe(true);
  });

  it('a float candidate has no calibrated range: the check is not measured, so it fails saying why', async () => {
    const report = await gate(cloneModel(original));
    const check = report.verdict.checks.find((k) => k.metric === 'maxClipRate')!;
    expect(check).toMatchObject({ pass: false, value: null, note: expect.stringMatching(/no activation quantized/) });
  });
});

describe('compress recipes that prune', () => {
  it('prune with their calibration split and report each layer\'s error before and after reconstruction', async () => {
    const { report } = await compressModel(original, 'mlp.onnx', { target: 'cpu-arm64', tolerances: { maxLatencyRatio: Infinity, maxSizeRatio: Infinity }, data: { samples: samples.slice(0, 300), labels: labels.slice(0, 300), generated: false }, benchRuns: 5, fallback: false });
    const pruned = report.candidates.find((c) => c.recipe.startsWith('channels-'))!;
    expect(pruned.pruneErrors!.length).toBeGreaterThan(0);
    // Re-fitting on the data never leaves a layer worse than its mask alone did.
    for (const e of pruned.pruneErrors!) expect(e.after).toBeLessThanOrEqual(e.before * 1.0001 + 1e-12);
    expect(pruned.steps[0]).toMatch(/layer output error .* -> .* before -> after reconstruction/);
    expect(renderMarkdown({ ...report, chosen: pruned.recipe })).toMatch(/before -> after reconstruction:/);
  });
});
