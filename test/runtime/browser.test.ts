// onnxruntime-web in headless Chromium: the same outputs as onnxruntime-node, and cold and
// steady timings for both builds a site may load.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BrowserRuntime, browserUnavailable } from '../../src/runtime/browser.js';
import { openSession } from '../../src/runtime/ort.js';
import { ensureMnistModel, TRAIN_COUNT } from '../../models/train-mnist.js';
import { digitSamples } from '../helpers/mnist.js';

const unavailable = browserUnavailable();
if (unavailable) console.log(`skipped: browser runtime tests (${unavailable})`);

describe.skipIf(unavailable)('onnxruntime-web in Chromium', () => {
  const file = ensureMnistModel();
  const bytes = readFileSync(file);
  const { samples } = digitSamples('image', { from: TRAIN_COUNT, count: 4 });

  it('gives onnxruntime-node\'s outputs, and times cold and steady runs for both builds', async () => {
    const browser = await BrowserRuntime.launch();
    try {
      const inPage = await browser.run({ label: 'mlp', bytes }, samples);
      const node = await openSession(file);
      for (const [i, s] of samples.entries()) {
        const want = (await node.run(s)).logits!.data as Float32Array;
        const got = inPage[i]!.logits!.data as Float32Array;
        expect(got.length).toBe(want.length);
        for (let k = 0; k < want.length; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThan(1e-4 * (1 + Math.abs(want[k]!)));
      }
      await node.release();
      const timings = await browser.bench([{ label: 'mlp', bytes }], samples, { runs: 10, warmup: 3, firstRuns: 2 });
      expect(timings.map((t) => t.build)).toEqual(['default', 'wasm-only']);
      for (const t of timings) {
        expect(t.cold.createMs).toBeGreaterThan(0);
        expect(t.cold.firstRunsMs).toHaveLength(2);
        expect(t.samplesMs).toHaveLength(10);
        expect(t.samplesMs.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
      }
    } finally {
      await browser.close();
    }
  });
});
