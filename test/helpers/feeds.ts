// Seeded inputs for models without reference data: symbolic dims become 1, floats are
// uniform in [0,1), integers small; Silero's 'sr' gets a real sample rate.
import type { Model } from '../../src/ir/graph.js';
import { elemTypeOf, shapeOf } from '../../src/ir/graph.js';
import { ortTypeName } from '../../src/ir/dtype.js';
import type { HostTensor } from '../../src/runtime/ort.js';

export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const KNOWN_DIMS: Record<string, number> = { sr: 16000 };

export function generateFeeds(model: Model, seed: number): Record<string, HostTensor> {
  const rand = seededRandom(seed);
  const feeds: Record<string, HostTensor> = {};
  for (const input of model.graph.inputs) {
    if (model.graph.initializers.has(input.name)) continue;
    const elem = elemTypeOf(input) ?? 1;
    // Silero VAD reads a window of audio samples: give it a real 512-sample window.
    const audioWindow = input.name === 'input' && model.graph.inputs.some((i) => i.name === 'sr');
    const dims = (shapeOf(input) ?? []).map((d, i) => (typeof d === 'number' && d > 0 ? d : audioWindow && i === 1 ? 512 : 1));
    const count = dims.reduce((a, b) => a * b, 1);
    const type = ortTypeName(elem) ?? 'float32';
    let data: ArrayBufferView;
    if (type === 'float32') data = Float32Array.from({ length: count }, () => rand());
    else if (type === 'int64') data = BigInt64Array.from({ length: count }, () => BigInt(KNOWN_DIMS[input.name] ?? Math.floor(rand() * 4)));
    else if (type === 'int32') data = Int32Array.from({ length: count }, () => Math.floor(rand() * 4));
    else if (type === 'bool') data = Uint8Array.from({ length: count }, () => (rand() < 0.5 ? 1 : 0));
    else data = new Uint8Array(count);
    feeds[input.name] = { type, dims, data };
  }
  return feeds;
}
