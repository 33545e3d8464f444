// eval and bench on what a user's clone has: the example MLP models/ builds and the mnist
// package's digits (measure.test.ts runs the same checks on ../shared's mnist-8).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSession } from '../../src/runtime/ort.js';
import { loadLabels, loadSamples } from '../../src/runtime/samples.js';
import { exportMnistDigits } from '../../models/export-mnist-digits.js';
import { ensureMnistModel, TRAIN_COUNT } from '../../models/train-mnist.js';
import { runCli } from '../helpers/cli.js';

describe('eval and bench on the example MLP', () => {
  const model = ensureMnistModel();
  const dir = mkdtempSync(join(tmpdir(), 'onnxpress-eval-mlp-'));
  const data = join(dir, 'digits');
  exportMnistDigits(data, { offset: TRAIN_COUNT, count: 300 });

  it('eval reports the accuracy a hand-written loop measures, and no error against itself', async () => {
    const session = await openSession(model);
    const { samples, ids } = loadSamples(data, session.inputs, { dimOverrides: { batch: 1 } });
    const labels = loadLabels(join(data, 'labels.json'), ids);
    let right = 0;
    for (let i = 0; i < samples.length; i++) {
      const out = (await session.run(samples[i]!))[session.outputNames[0]!]!.data as Float32Array;
      let best = 0;
      for (let k = 1; k < 10; k++) if (out[k]! > out[best]!) best = k;
      if (best === labels[i]) right++;
    }
    await session.release();
    const r = runCli(['eval', model, model, '--data', data, '--samples', '300', '--dim', 'batch=1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.samples).toBe(300);
    expect(Math.abs(report.accuracy.reference - (100 * right) / 300)).toBeLessThanOrEqual(0.1);
    const o = Object.values(report.outputs)[0] as Record<string, number>;
    expect([o.maxAbs, o.cosine, o.top1Agreement, report.accuracy.delta]).toEqual([0, 1, 1, 0]);
  });

  it('bench prints the documented JSON on both backends', () => {
    for (const backend of ['node', 'wasm']) {
      const r = runCli(['bench', model, '--runs', '10', '--backend', backend, '--dim', 'batch=1', '--json']);
      expect(r.code, `${backend}: ${r.stderr}`).toBe(0);
      const m = JSON.parse(r.stdout).models[0];
      for (const k of ['file', 'bytes', 'gzipBytes', 'brotliBytes', 'initMs', 'latencyMs', 'peakRssBytes']) expect(m).toHaveProperty(k);
      expect(m.latencyMs.p50).toBeGreaterThan(0);
    }
  });
});
