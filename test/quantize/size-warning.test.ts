// quantize says so when its output is larger than its input: a model whose weights are too
// few to pay for the scales, zero points and Q/DQ nodes int8 adds (here one 2x4x3x3 Conv).
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveModel } from '../../src/onnx/save.js';
import { GraphBuilder } from '../helpers/graph-builder.js';
import { runCli } from '../helpers/cli.js';

describe('quantize output size', () => {
  it('warns, in one line with both sizes, when the quantized file is larger than the input', () => {
    const b = new GraphBuilder('tiny');
    const x = b.input('x', [1, 4, 16, 16]);
    b.output(b.node('Conv', [x, b.weight('w', [2, 4, 3, 3]), b.weight('b', [2])], {}, { name: 'conv' }));
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-size-'));
    const input = join(dir, 'tiny.onnx'), out = join(dir, 'tiny.int8.onnx');
    saveModel(b.model(17), input);
    const r = runCli(['quantize', input, '-o', out, '--mode', 'int8-static', '--calibration', 'random', '--op-types', 'Conv']);
    expect(r.code).toBe(0);
    expect(statSync(out).size).toBeGreaterThan(statSync(input).size);
    const warning = r.stderr.split('\n').filter((l) => /larger than the input/.test(l));
    expect(warning).toEqual([expect.stringMatching(new RegExp(`^warning: the quantized model is larger than the input \\(${statSync(input).size} -> ${statSync(out).size} bytes\\)`))]);
  });
});
