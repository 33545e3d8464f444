import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSession } from '../../../src/runtime/ort.js';
import { runCli } from '../../helpers/cli.js';
import { OCR_MODELS } from '../../prune/ocr.js';

describe('quantize technique flags', () => {
  it('--equalize --gptq --bias-correction --smooth-quant on the PP-OCR classifier: says what each did, writes a model that loads', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'onnxpress-ptq-')), 'cls.int8.onnx');
    const r = runCli(['quantize', OCR_MODELS.cls, '-o', out, '--mode', 'int8-static', '--calibration', 'random', '--samples', '4', '--dim', 'p2o.DynamicDimension.0=1', '--dim', 'p2o.DynamicDimension.1=48', '--dim', 'p2o.DynamicDimension.2=192', '--equalize', '--gptq', '--bias-correction', '--smooth-quant', '0.5']);
    expect(r.code, r.stderr).toBe(0);
    for (const name of ['equalize', 'smoothQuant', 'gptq', 'biasCorrection']) expect(r.stdout).toMatch(new RegExp(`^${name}: `, 'm'));
    const session = await openSession(out);
    await session.release();
  });

  it('a technique with another mode: one line naming the flag, exit 2, nothing written', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'onnxpress-ptq-')), 'cls.onnx');
    const r = runCli(['quantize', OCR_MODELS.cls, '-o', out, '--mode', 'int8-dynamic', '--gptq']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').filter((l) => !/npm warn/.test(l))).toEqual(['onnxpress: --gptq: int8-static only (mode is int8-dynamic)']);
    expect(existsSync(out)).toBe(false);
  });
});
