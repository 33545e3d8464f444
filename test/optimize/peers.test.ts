import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simplify } from 'onnxsim';
import { describe, expect, it } from 'vitest';
import { loadModel, loadModelFromBytes } from '../../src/onnx/load.js';
import { openSession } from '../../src/runtime/ort.js';
import { serializeModel } from '../../src/onnx/save.js';
import { modelSummary, optimizeModel } from '../../src/optimize.js';
import { npmModels, sharedModels } from '../helpers/corpus.js';

// Node counts side by side with onnxruntime's offline optimizer ('basic') and onnx-simplifier's
// npm build, on the same real models. Our default never grows the file; the peers fold
// without a size limit, so the comparison also runs ours with the limit lifted
// (--fold-growth unlimited), which is what they do.
async function ortBasicNodes(file: string, dir: string): Promise<number> {
  const out = join(dir, 'ort-basic.onnx');
  const session = await openSession(file, { optimization: 'basic', optimizedModelFilePath: out });
  await session.release();
  return modelSummary(loadModel(out, { loadExternalData: false })).nodeCount;
}

async function ourNodes(file: string, unlimited: boolean): Promise<number> {
  const model = loadModel(file);
  return (await optimizeModel(model, unlimited ? { foldSlackBytes: Infinity } : {})).after.nodeCount;
}

describe('node count against the peers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnxpress-peers-'));

  it.skipIf(!sharedModels().length)('at least as low as onnxruntime basic on the shared real models', async () => {
    const rows: string[] = [];
    for (const m of sharedModels()) {
      const ort = await ortBasicNodes(m.file, dir);
      const ours = await ourNodes(m.file, true);
      if (ours > ort) rows.push(`${m.id}: ours ${ours}, onnxruntime ${ort}`);
    }
    expect(rows).toEqual([]);
  });

  it('within a few nodes of onnxruntime basic on Silero VAD, whose extra folds grow the file', async () => {
    for (const m of npmModels()) {
      const ort = await ortBasicNodes(m.file, dir);
      const ours = await ourNodes(m.file, true);
      // Measured: v5 230 vs 224 (onnxruntime folds Casts/Slices our shape inference cannot type), legacy 240 vs 238.
      expect(ours, m.id).toBeLessThanOrEqual(Math.ceil(ort * 1.05));
    }
  });

  it('no more nodes than onnx-simplifier (npm onnxsim) on the real trained models', async () => {
    const rows: string[] = [];
    let compared = 0;
    const models = [...sharedModels().filter((s) => !s.id.includes('/light/')), ...npmModels()];
    for (const m of models) {
      let theirs: number;
      try {
        // onnxsim takes bytes only: give it the model with its weights inline.
        const simplified = await simplify(serializeModel(loadModel(m.file)));
        theirs = modelSummary(loadModelFromBytes(simplified.model, { validate: false })).nodeCount;
      } catch {
        continue; // onnxsim rejects models whose nodes are not topologically sorted (the Keras one)
      }
      const ours = await ourNodes(m.file, false);
      compared++;
      if (ours > theirs) rows.push(`${m.id}: ours ${ours}, onnxsim ${theirs}`);
    }
    expect(rows).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(Math.min(5, models.length)); // a user's clone has the 2 npm models
  });
});
