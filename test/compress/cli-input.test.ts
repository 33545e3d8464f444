import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOLERANCE_KEYS } from '../../src/verdict.js';
import { targets } from '../../src/targets/index.js';
import { ensureMnistModel } from '../../models/train-mnist.js';
import { runCli } from '../helpers/cli.js';

describe('compress and gate on bad input: one line, exit 2, nothing written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnxpress-badinput-'));
  const model = ensureMnistModel();
  const out = join(dir, 'out.onnx');
  writeFileSync(join(dir, 'typo.json'), JSON.stringify({ tolerances: { minCos: 0.99 } }));
  writeFileSync(join(dir, 'broken.json'), '{');
  const cases: [string[], RegExp][] = [
    [['compress', model, '-o', out, '--target', 'cpu-x87'], /unknown target 'cpu-x87' \(cpu-x86, /],
    [['compress', join(dir, 'missing.onnx'), '-o', out, '--target', 'cpu-x86'], /missing\.onnx: cannot be read/],
    [['compress', model, '-o', out, '--target', 'cpu-x86', '--max-size-ratio', 'abc'], /--max-size-ratio: expected a number/],
    [['compress', model, '-o', out, '--target', 'cpu-x86', '--data', join(dir, 'nope')], /not a folder of samples/],
    [['compress', model, '--target', 'cpu-x86'], /no --output given/],
    [['gate', model, model, '--config', join(dir, 'typo.json')], /typo\.json: unknown tolerance 'minCos'/],
    [['gate', '--config', join(dir, 'broken.json')], /broken\.json: not valid JSON/],
    [['gate', model, model], /no tolerances given/],
  ];
  it.each(cases)('%j', (args, message) => {
    const r = runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^onnxpress: /);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});

describe('schema/onnxpress.gate.schema.json', () => {
  const schema = JSON.parse(readFileSync('schema/onnxpress.gate.schema.json', 'utf8'));
  it('lists exactly the tolerances and targets the code knows, and ships in the package', () => {
    expect(Object.keys(schema.properties.tolerances.properties).sort()).toEqual([...TOLERANCE_KEYS].sort());
    expect(schema.properties.target.enum).toEqual(targets.map((t) => t.name));
    expect(JSON.parse(readFileSync('package.json', 'utf8')).files).toContain('schema');
  });
});
