// `onnxpress prune` as a user runs it: --calibration with the digits models/ exports, the
// note without data, and bad input as one line, exit 2, nothing written.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureMnistModel } from '../../models/train-mnist.js';
import { exportMnistDigits } from '../../models/export-mnist-digits.js';
import { runCli } from '../helpers/cli.js';

describe('onnxpress prune --calibration', () => {
  const model = ensureMnistModel();
  const dir = mkdtempSync(join(tmpdir(), 'prune-cli-'));
  const digits = exportMnistDigits(join(dir, 'digits'), { offset: 8000, count: 32 }).dir;
  // Samples of another shape than the model's [batch, 1, 28, 28] input.
  const wrong = exportMnistDigits(join(dir, 'wrong'), { offset: 0, count: 4, shape: [1, 14, 56] }).dir;

  it('reconstructs, prints the per-layer errors with --sensitivity, and writes a model', () => {
    const out = join(dir, 'pruned.onnx');
    const r = runCli(['prune', model, '-o', out, '--method', 'nm', '--calibration', digits, '--sensitivity', '--prune-ends']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/mask only -> after reconstruction/);
    expect(r.stdout).toMatch(/fc2\s+\S+ -> \S+\s+obs/);
    expect(r.stdout).toMatch(/calibration 32 samples/);
    expect(r.stderr).not.toMatch(/note:/);
    expect(existsSync(out)).toBe(true);
  });

  it('without data: today\'s pruning and a note that data would help', () => {
    const r = runCli(['prune', model, '-o', join(dir, 'plain.onnx'), '--method', 'magnitude']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/note: no calibration samples.*--calibration DIR/);
  });

  const bad: [string, string[], RegExp][] = [
    ['ratio outside (0, 1)', ['--method', 'channels', '--ratio', '1.5'], /--ratio/],
    ['ratio 0', ['--method', 'channels', '--ratio', '0'], /--ratio/],
    ['pattern 5:4', ['--method', 'nm', '--pattern', '5:4'], /--pattern '5:4'/],
    ['data that does not fit the model', ['--method', 'magnitude', '--calibration', wrong], /shape \[1, 14, 56\]/],
    ['a folder that is not there', ['--method', 'magnitude', '--calibration', join(dir, 'none')], /not a folder of samples/],
    // A file identical to the input would pass for a pruned model.
    ['every layer excluded', ['--method', 'magnitude', '--exclude', 'fc1,fc2,fc3'], /nothing was pruned: 3 layer\(s\) skipped \(fc1: excluded \(--exclude\)/],
  ];
  for (const [what, args, message] of bad) {
    it(`${what}: one line, exit 2, nothing written`, () => {
      const out = join(dir, `bad-${what.replace(/\W+/g, '-')}.onnx`);
      const before = readFileSync(model);
      const r = runCli(['prune', model, '-o', out, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(out)).toBe(false);
      expect(readFileSync(model).equals(before)).toBe(true);
    });
  }
});

describe('pruneModel bad options name the option field, and leave the model as it was', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['ratio', { method: 'channels', ratio: 1 }, /^ratio 1: expected a share strictly between 0 and 1/],
    ['n:m', { method: 'nm', n: 5, m: 4 }, /^n:m 5:4/],
    ['calibration shape', { method: 'magnitude', calibration: [{ image: { type: 'float32', dims: [1, 2, 28, 28], data: new Float32Array(1568) } }] }, /^calibration sample 0: input 'image' has shape \[1, 2, 28, 28\]/],
    ['calibration input name', { method: 'magnitude', calibration: [{ x: { type: 'float32', dims: [1, 1, 28, 28], data: new Float32Array(784) } }] }, /^calibration sample 0: no value for the model input 'image'/],
  ];
  for (const [what, options, message] of cases) {
    it(what, async () => {
      const { loadModel } = await import('../../src/onnx/load.js');
      const { serializeModel } = await import('../../src/onnx/save.js');
      const { pruneModel } = await import('../../src/prune/index.js');
      const model = loadModel(ensureMnistModel());
      const before = Buffer.from(serializeModel(model));
      await expect(pruneModel(model, options as never)).rejects.toThrow(message);
      expect(Buffer.from(serializeModel(model)).equals(before)).toBe(true);
    });
  }
});
