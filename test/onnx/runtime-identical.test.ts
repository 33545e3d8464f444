import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { generateFeeds } from '../helpers/feeds.js';
import { allBackendModels, npmModels, sharedModels } from '../helpers/corpus.js';
import { bitIdentical, referenceFeeds, tryRun } from '../helpers/run.js';

// A saved model runs to bit-identical outputs: the round trip changed nothing the runtime sees.
describe('saved models give bit-identical onnxruntime outputs', () => {
  it('on the whole backend suite (reference inputs)', async () => {
    const models = allBackendModels();
    let compared = 0;
    const notRunnable: string[] = [];
    const differing: string[] = [];
    for (const m of models) {
      const model = loadModel(m.file);
      const feeds = referenceFeeds(model, m);
      if (!feeds) { notRunnable.push(m.id); continue; }
      const before = await tryRun(m.file, feeds);
      if (!before) { notRunnable.push(m.id); continue; }
      const after = await tryRun(serializeModel(model), feeds);
      if (!after || !bitIdentical(before, after)) differing.push(m.id);
      compared++;
    }
    expect(differing).toEqual([]);
    // Models onnxruntime itself cannot run (training ops, sequences) are compared as messages only.
    expect(compared).toBeGreaterThan(models.length * 0.75);
  });

  it('on the shared real models and Silero VAD (seeded inputs)', async () => {
    let compared = 0;
    const models = [...sharedModels(), ...npmModels()];
    for (const m of models) {
      const model = loadModel(m.file);
      const feeds = generateFeeds(model, 7);
      const before = await tryRun(m.file, feeds);
      expect(before, m.id).toBeDefined();
      const after = await tryRun(serializeModel(model), feeds);
      expect(after && bitIdentical(before!, after), m.id).toBe(true);
      compared++;
    }
    expect(compared).toBe(models.length); // 14 shared + 2 npm here; a user's clone has the 2 npm ones
  });
});
