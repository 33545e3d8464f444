import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OnnxpressError } from '../../src/errors.js';
import { loadModelFromBytes } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { npmModels, requireShared } from '../helpers/corpus.js';
import { seededRandom } from '../helpers/feeds.js';

// Mutated and truncated real models either load (and save) or fail with OnnxpressError:
// never another exception type, never a hang.
describe('fuzzed model bytes', () => {
  // A user's clone fuzzes the npm model alone.
  const shared = ['mnist/mnist-8.onnx', 'mnist/mnist-keras-nhwc.onnx', 'light/light_squeezenet.onnx'].map(requireShared).filter((f) => f !== undefined);
  const sources = [...shared, npmModels()[1]!.file];
  it('load or fail cleanly (600 seeded mutations)', () => {
    const rand = seededRandom(2026);
    const outcomes = { loaded: 0, rejected: 0 };
    const escaped: string[] = [];
    for (let i = 0; i < 600; i++) {
      const original = readFileSync(sources[i % sources.length]!);
      const bytes = mutate(new Uint8Array(original), rand);
      try {
        const model = loadModelFromBytes(bytes, { file: `mutant-${i}` });
        serializeModel(model);
        outcomes.loaded++;
      } catch (err) {
        if (err instanceof OnnxpressError) outcomes.rejected++;
        else escaped.push(`mutant-${i}: ${(err as Error).message}`);
      }
    }
    expect(escaped).toEqual([]);
    expect(outcomes.rejected).toBeGreaterThan(100);
    expect(outcomes.loaded).toBeGreaterThan(50);
  });
});

function mutate(bytes: Uint8Array, rand: () => number): Uint8Array {
  const kind = Math.floor(rand() * 4);
  if (kind === 0) return bytes.subarray(0, Math.floor(rand() * bytes.length)); // truncate
  const out = bytes.slice();
  if (kind === 1) { // flip a few bytes
    for (let k = 0; k < 1 + rand() * 8; k++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
    return out;
  }
  if (kind === 2) { // flip bytes near the start, where headers and small fields live
    for (let k = 0; k < 3; k++) out[Math.floor(rand() * Math.min(out.length, 400))] ^= 1 << Math.floor(rand() * 8);
    return out;
  }
  const a = Math.floor(rand() * out.length); // splice a chunk elsewhere
  const b = Math.floor(rand() * out.length);
  const len = Math.floor(rand() * 200);
  out.set(bytes.subarray(a, a + len).subarray(0, Math.max(0, out.length - b)), b);
  return out;
}
