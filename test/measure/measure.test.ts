import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchModels, compareLatency } from '../../src/measure/bench.js';
import { sharedRepeat } from '../../src/measure/stats.js';
import { ensureMnistModel } from '../../models/train-mnist.js';
import { renderBench } from '../../src/commands/measure.js';
import { evalModels } from '../../src/measure/eval.js';
import { openSession } from '../../src/runtime/ort.js';
import { generateSamples, loadLabels, loadSamples } from '../../src/runtime/samples.js';
import { exportMnistDigits } from '../../models/export-mnist-digits.js';
import { encodeNpy } from '../../src/runtime/data/npy.js';
import { requireShared } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';

const MNIST8 = requireShared('mnist/mnist-8.onnx')!;

describe.skipIf(!MNIST8)('eval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnxpress-eval-'));
  const data = join(dir, 'digits');
  exportMnistDigits(data, { offset: 8000, count: 1000 });

  it('reports the true accuracy of mnist-8 on the digits (a hand-written loop agrees within 0.1 points)', async () => {
    const session = await openSession(MNIST8);
    const { samples, ids } = loadSamples(data, session.inputs);
    const labels = loadLabels(join(data, 'labels.json'), ids);
    let right = 0;
    for (let i = 0; i < samples.length; i++) {
      const out = (await session.run(samples[i]!)).Plus214_Output_0!.data as Float32Array;
      let best = 0;
      for (let k = 1; k < 10; k++) if (out[k]! > out[best]!) best = k;
      if (best === labels[i]) right++;
    }
    await session.release();
    const r = runCli(['eval', MNIST8, MNIST8, '--data', data, '--samples', '1000', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.samples).toBe(1000);
    expect(Math.abs(report.accuracy.reference - (100 * right) / 1000)).toBeLessThanOrEqual(0.1);
    // The model against itself: no error, full agreement.
    const o = report.outputs.Plus214_Output_0;
    expect([o.maxAbs, o.meanAbs, o.rel, o.cosine, o.top1Agreement, o.top5Agreement, report.accuracy.delta]).toEqual([0, 0, 0, 1, 1, 1, 0]);
  });

  it('the same seed gives the same inputs and figures', async () => {
    const specs = (await openSession(MNIST8)).inputs;
    const a = generateSamples(specs, 5, 42), b = generateSamples(specs, 5, 42), c = generateSamples(specs, 5, 43);
    expect(Buffer.from((a[3]!.Input3!.data as Float32Array).buffer)).toEqual(Buffer.from((b[3]!.Input3!.data as Float32Array).buffer));
    expect(Buffer.from((a[3]!.Input3!.data as Float32Array).buffer)).not.toEqual(Buffer.from((c[3]!.Input3!.data as Float32Array).buffer));
    const [r1, r2] = [await evalModels(MNIST8, MNIST8, { samples: a, quiet: true }), await evalModels(MNIST8, MNIST8, { samples: b, quiet: true })];
    expect(r1).toEqual(r2);
  });

  it('bad data gets an error naming the input and what was expected', () => {
    const bad = join(dir, 'bad');
    exportMnistDigits(bad, { count: 3, shape: [1, 14, 56] });
    const r = runCli(['eval', MNIST8, MNIST8, '--data', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^onnxpress: input 'Input3': .*00000\.npy has shape \[1, 14, 56\], the model expects \[1, 1, 28, 28\]$/);
    const wrongType = join(dir, 'int');
    exportMnistDigits(wrongType, { count: 1 });
    writeFileSync(join(wrongType, '00000.npy'), encodeNpy({ type: 'int32', dims: [1, 28, 28], data: new Int32Array(784) }));
    expect(runCli(['eval', MNIST8, MNIST8, '--data', wrongType]).stderr).toMatch(/holds int32, the model expects float32/);
    writeFileSync(join(wrongType, '00000.npy'), 'garbage');
    expect(runCli(['eval', MNIST8, MNIST8, '--data', wrongType]).stderr).toMatch(/00000\.npy: not a \.npy file/);
  });
});

describe.skipIf(!MNIST8)('bench', () => {
  it('a model against itself: the ratio inside its interval, flagged noisy exactly when the interval holds 1; identical timings always noisy', async () => {
    const r = await benchModels([{ label: 'a', model: MNIST8 }, { label: 'a again', model: MNIST8 }], { runs: 100, quiet: true });
    const q = r.ratios[0]!;
    expect(q.ci95[0]).toBeLessThanOrEqual(q.ratio);
    expect(q.ci95[1]).toBeGreaterThanOrEqual(q.ratio);
    // How near 1 two sessions of one sub-millisecond model come is the machine's business (a
    // loaded CI runner put them 5% apart with a tight interval): not asserted here.
    expect(q.noisy).toBe(q.ci95[0] <= 1 && q.ci95[1] >= 1);
    // The same timings on both sides cannot be told apart, however spread they are.
    expect(compareLatency(r.models[0]!.samplesMs, r.models[0]!.samplesMs).noisy).toBe(true);
    for (const m of r.models) {
      expect(m.latencyMs.p50).toBeGreaterThan(0);
      expect(m.latencyMs.p90).toBeGreaterThanOrEqual(m.latencyMs.p50);
      expect(m.brotliBytes).toBeLessThan(m.bytes);
    }
  });

  it('the CLI prints the documented JSON, on both backends', () => {
    for (const backend of ['node', 'wasm']) {
      const r = runCli(['bench', MNIST8, '--runs', '20', '--backend', backend, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const m = JSON.parse(r.stdout).models[0];
      for (const k of ['file', 'bytes', 'gzipBytes', 'brotliBytes', 'initMs', 'latencyMs', 'peakRssBytes']) expect(m).toHaveProperty(k);
      for (const k of ['mean', 'p50', 'p90', 'p99', 'sd', 'ci95']) expect(m.latencyMs).toHaveProperty(k);
    }
  });
});

describe('bench: one batch size per comparison', () => {
  it("the fastest model's need, but never more than 8 times the slowest model's own", () => {
    expect(sharedRepeat([50, 45, 60])).toBe(60);
    expect(sharedRepeat([89, 1])).toBe(8);
    expect(sharedRepeat([1, 1])).toBe(1);
  });
  it('every model of a run is timed with it, and the report says so', async () => {
    const r = await benchModels([{ label: 'mlp', model: ensureMnistModel() }, { label: 'mlp again', model: ensureMnistModel() }], { runs: 6, warmup: 1, quiet: true });
    expect(r.runsPerFigure).toBeGreaterThanOrEqual(1);
    expect(r.models.map((m) => m.samplesMs.length)).toEqual([6, 6]);
  });
});

describe('bench: NOISY means the interval cannot tell the models apart', () => {
  // Synthetic timings with a fixed spread (a seeded ramp), so the intervals are exact functions of the data.
  const base = Array.from({ length: 60 }, (_, i) => 10 + (i % 20) * 0.25);
  const scaled = (k: number) => base.map((v) => v * k);

  it('a wide interval far from 1 is a clear difference, not noise', () => {
    const spread = base.map((v, i) => v * (i % 2 ? 0.43 : 0.55));
    const q = compareLatency(base, spread);
    expect(q.ci95[1]).toBeLessThan(1);
    expect(q.ci95[1] - q.ci95[0]).toBeGreaterThan(0.05);
    expect(q.noisy).toBe(false);
    const slower = compareLatency(base, scaled(1.3));
    expect(slower.ci95[0]).toBeGreaterThan(1);
    expect(slower.noisy).toBe(false);
  });

  it('an interval containing 1 is noisy, narrow or not', () => {
    expect(compareLatency(base, scaled(1.0)).noisy).toBe(true);
    const mixed = compareLatency(base, base.map((v, i) => v * (i % 2 ? 0.7 : 1.4)));
    expect(mixed.ci95[0]).toBeLessThan(1);
    expect(mixed.ci95[1]).toBeGreaterThan(1);
    expect(mixed.noisy).toBe(true);
  });

  it('the printed verdict says faster, slower or NOISY accordingly', () => {
    const report = {
      backend: 'node' as const, threads: 1, runs: 60, runsPerFigure: 1, models: [],
      ratios: [
        { file: 'half.onnx', ...compareLatency(base, scaled(0.5)) },
        { file: 'same.onnx', ...compareLatency(base, base) },
        { file: 'slow.onnx', ...compareLatency(base, scaled(2)) },
      ],
    };
    const lines = renderBench(report).split('\n').slice(2);
    expect(lines[0]).toMatch(/^half\.onnx: 0\.500x .*: faster$/);
    expect(lines[1]).toMatch(/^same\.onnx: 1\.000x .*: NOISY, the interval contains 1/);
    expect(lines[2]).toMatch(/^slow\.onnx: 2\.000x .*: slower$/);
  });
});
