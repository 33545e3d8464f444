import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { saveModel } from '../../src/onnx/save.js';
import { allBackendModels, npmModels, sharedModels } from '../helpers/corpus.js';
import { checkerAvailable, checkerCanJudge, runChecker } from '../helpers/checker.js';

describe('onnx.checker accepts re-saved models it accepted before', () => {
  it.runIf(checkerAvailable())('on the whole corpus', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-checker-'));
    const pairs: [string, string][] = [];
    for (const [i, m] of [...allBackendModels(), ...sharedModels(), ...npmModels()].entries()) {
      const model = loadModel(m.file);
      if (!checkerCanJudge(model.irVersion, model.opset(''))) continue;
      const out = join(dir, `${i}.onnx`);
      saveModel(model, out);
      pairs.push([m.file, out]);
    }
    const verdicts = runChecker(pairs.flat());
    const accepted = pairs.filter(([orig]) => verdicts[orig] === null);
    const regressions = accepted.filter(([, saved]) => verdicts[saved] !== null).map(([orig, saved]) => `${orig}: ${verdicts[saved]}`);
    expect(regressions).toEqual([]);
    expect(accepted.length).toBeGreaterThan(100);
  });
});
