import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { compressModel } from '../../src/compress.js';
import { targets } from '../../src/targets/index.js';
import { openSession } from '../../src/runtime/ort.js';
import { exportMnistDigits } from '../../models/export-mnist-digits.js';
import { ensureMnistModel, TRAIN_COUNT } from '../../models/train-mnist.js';
import { npmModels, sharedModels } from '../helpers/corpus.js';
import { generateFeeds } from '../helpers/feeds.js';
import { runCli } from '../helpers/cli.js';

describe('compress the MNIST classifier for cpu-x86 on real digits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnxpress-compress-'));
  const model = ensureMnistModel();
  const data = join(dir, 'digits');
  exportMnistDigits(data, { offset: TRAIN_COUNT, count: 1000 });

  it('PASS: at least 3.5x smaller, top-1 within 0.5 points, exit 0, reports written', () => {
    const out = join(dir, 'small.onnx');
    const r = runCli(['compress', model, '-o', out, '--target', 'cpu-x86', '--data', data, '--max-accuracy-drop', '0.5', '--report', join(dir, 'report'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.verdict.pass).toBe(true);
    const chosen = report.candidates.find((c: { recipe: string }) => c.recipe === report.chosen);
    expect(report.original.bytes / chosen.bytes).toBeGreaterThanOrEqual(3.5);
    expect(chosen.accuracy.reference - chosen.accuracy.candidate).toBeLessThanOrEqual(0.5);
    expect(report.data.calibrationSamples + report.data.evalSamples).toBe(1000); // held apart, all used
    expect(readdirSync(join(dir, 'report')).sort()).toEqual(['report.html', 'report.json', 'report.md']);
    expect(existsSync(out)).toBe(true);
  });

  it('FAIL on an impossible tolerance: exit 1, naming the metric', () => {
    const r = runCli(['compress', model, '-o', join(dir, 'tiny.onnx'), '--target', 'cpu-x86', '--data', data, '--max-size-bytes', '1000', '--no-fallback']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL: maxSizeBytes/);
  });

  it('gate with a config file writes JUnit and Markdown, and fails what it should', () => {
    const small = join(dir, 'small.onnx');
    const config = join(dir, 'onnxpress.gate.json');
    writeFileSync(config, JSON.stringify({ model: resolve(model), candidate: small, data: 'digits', tolerances: { maxAccuracyDrop: 0.5, maxSizeRatio: 0.3 } }));
    const ok = runCli(['gate', '--config', config, '--junit', join(dir, 'gate.xml'), '--markdown', join(dir, 'gate.md')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(join(dir, 'gate.xml'), 'utf8')).toMatch(/<testsuite name="[^"]+" tests="2" failures="0">/);
    expect(readFileSync(join(dir, 'gate.md'), 'utf8')).toMatch(/PASS/);
    const bad = runCli(['gate', '--config', config, '--max-size-ratio', '0.01', '--junit', join(dir, 'gate-bad.xml')]);
    expect(bad.code).toBe(1);
    expect(readFileSync(join(dir, 'gate-bad.xml'), 'utf8')).toMatch(/<failure message="maxSizeRatio/);
  });
});

describe('every target profile on the real models', () => {
  const models = [...sharedModels().filter((m) => !m.id.includes('/light/')), ...npmModels()];
  // Silero VAD's LSTM and If bodies cannot run on an int8-only accelerator: that profile must say so.
  const impossible = (id: string, target: string) => target === 'npu-int8' && id.startsWith('npm/silero');
  for (const target of targets) {
    it(`${target.name}: outputs run and respect the profile's op and dtype list`, async () => {
      for (const m of models) {
        const original = loadModel(m.file);
        const samples = [1, 2, 3, 4, 5, 6].map((s) => generateFeeds(original, s));
        const { report, model } = await compressModel(original, m.id, { target, tolerances: { minCosine: 0.95 }, data: { samples, generated: true }, benchRuns: 5, fallback: false });
        const chosen = report.candidates.find((c) => c.recipe === report.chosen);
        if (impossible(m.id, target.name)) {
          expect(report.verdict.pass, m.id).toBe(false);
          expect(report.candidates[0]!.violations.map((v) => v.detail).join(' '), m.id).toMatch(/If|LSTM|computes in float/);
          continue;
        }
        expect(report.verdict.failed.map((c) => `${c.metric} ${c.note ?? ''}`), `${m.id} on ${target.name}`).toEqual([]);
        expect(chosen!.violations, m.id).toEqual([]);
        const session = await openSession(model!);
        await session.run(samples[0]!);
        await session.release();
      }
    });
  }
});
