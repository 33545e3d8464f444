// fp16 over the whole ONNX backend suite: every model onnxruntime runs with its reference
// inputs still loads, runs and agrees once converted. Op by op this finds what a block list
// must hold (float32-only schemas, ops onnxruntime's CPU provider has no float16 kernel for,
// strings printed from floats) and what the converter must respect (old opsets, initializers
// that are also graph inputs, bodies that capture converted values).
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { OnnxpressError } from '../../src/errors.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { backendSuite } from '../helpers/corpus.js';
import { maxRelativeError } from '../helpers/compare.js';
import { referenceFeeds, tryRun } from '../helpers/run.js';

// Outputs drawn at random differ from run to run in any precision.
const RANDOM = /^(Bernoulli|RandomNormal|RandomNormalLike|RandomUniform|RandomUniformLike|Multinomial|Dropout)$/;

describe('fp16 on the backend suite', () => {
  it('every model that runs still runs after conversion and agrees within float16 precision', async () => {
    const failures: string[] = [];
    let checked = 0, refused = 0;
    for (const c of (['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const).flatMap(backendSuite)) {
      const m = loadModel(c.file);
      if (m.graph.nodes.some((n) => RANDOM.test(n.opType))) continue;
      const input = referenceFeeds(m, c);
      if (!input) continue;
      const ref = await tryRun(c.file, input);
      if (!ref) continue;
      try {
        await quantizeModel(m, { mode: 'fp16' });
      } catch (err) {
        // Refused with a reason (nothing float to convert, an opset it cannot raise): anything else is a bug.
        if (!(err instanceof OnnxpressError) || err.code !== 'UNSUPPORTED') throw err;
        refused++;
        continue;
      }
      const got = await tryRun(serializeModel(m), input);
      checked++;
      if (!got) { failures.push(`${c.id}: does not load or run`); continue; }
      // Measured: at most 9e-4 (window functions' cosines, layer normalization).
      const err = maxRelativeError(ref, got);
      if (!(err < 1e-2)) failures.push(`${c.id}: relative error ${err}`);
    }
    expect(failures).toEqual([]);
    // Measured: 732 converted; the rest (integer, bool and string models) have nothing to convert and are refused.
    expect(checked).toBeGreaterThan(700);
    expect(refused).toBeLessThan(300);
  }, 300_000);
});
