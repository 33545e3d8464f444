import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { allBackendModels, npmModels, sharedModels, type CorpusModel } from '../helpers/corpus.js';
import { generateFeeds } from '../helpers/feeds.js';
import { maxRelativeError } from '../helpers/compare.js';
import { referenceFeeds, tryRun } from '../helpers/run.js';

// The default pipeline preserves meaning on real models: outputs within 1e-5 (relative to
// the output's scale), never more nodes, never a larger file, and a second run changes nothing.
async function checkModel(m: CorpusModel, failures: string[]): Promise<'compared' | 'not-runnable'> {
  const original = loadModel(m.file);
  const feeds = referenceFeeds(original, m) ?? (m.testDataDir ? undefined : generateFeeds(original, 11));
  const model = cloneModel(original);
  const report = await optimizeModel(model, { verify: true });
  const beforeBytes = serializeModel(original).byteLength;
  const afterBytes = serializeModel(model).byteLength;
  if (report.after.nodeCount > report.before.nodeCount) failures.push(`${m.id}: ${report.before.nodeCount} -> ${report.after.nodeCount} nodes`);
  if (afterBytes > beforeBytes) failures.push(`${m.id}: ${beforeBytes} -> ${afterBytes} bytes`);
  const again = await optimizeModel(model);
  if (again.changed) failures.push(`${m.id}: second run changed ${Object.entries(again.passes).filter(([, p]) => p.changedRounds).map(([n]) => n).join(', ')}`);
  if (!feeds) return 'not-runnable';
  const before = await tryRun(m.file, feeds);
  if (!before) return 'not-runnable';
  const after = await tryRun(serializeModel(model), feeds);
  if (!after) { failures.push(`${m.id}: optimized model does not run`); return 'compared'; }
  const err = maxRelativeError(before, after);
  if (!(err <= 1e-5)) failures.push(`${m.id}: outputs differ by ${err}`);
  return 'compared';
}

describe('optimize preserves meaning on the corpus', () => {
  it('on the whole backend suite', async () => {
    const failures: string[] = [];
    let compared = 0;
    for (const m of allBackendModels()) if ((await checkModel(m, failures)) === 'compared') compared++;
    expect(failures).toEqual([]);
    expect(compared).toBeGreaterThan(800);
  });

  it('on the shared real models and Silero VAD', async () => {
    const failures: string[] = [];
    let compared = 0;
    for (const m of [...sharedModels(), ...npmModels()]) if ((await checkModel(m, failures)) === 'compared') compared++;
    expect(failures).toEqual([]);
    expect(compared).toBe(sharedModels().length + npmModels().length);
  });
});
