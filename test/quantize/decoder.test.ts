import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { inferShapes, shapeDiagnostics, writeValueInfo } from '../../src/ir/shapes.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { maxRelativeError } from '../helpers/compare.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { openSession, runOnce, type HostTensor } from '../../src/runtime/ort.js';
import { ensureTinyDecoder, TINY_DECODER, type TinyDecoderFiles } from '../../models/tiny-decoder.js';

// The decoder of models/tiny-decoder.ts: GPT-2's exported form (Conv1D as Reshape ->
// Gemm -> Reshape with targets from Shape arithmetic, heads split the same way), trained
// in TS on counting sequences (start s, step 1..3, mod 16), so its weights are not random.
const { vocab, maxPositions, heads, dModel } = TINY_DECODER;
const PROMPTS = [[0, 1, 2], [5, 7, 9], [13, 0, 3], [2, 4], [11, 12, 13, 14], [9, 12, 15]];

const ids = (tokens: number[]): HostTensor => ({ type: 'int64', dims: [1, tokens.length], data: BigInt64Array.from(tokens.map(BigInt)) });

function lastArgmax(logits: HostTensor): number {
  const data = logits.data as Float32Array;
  const row = data.subarray(data.length - vocab);
  return row.indexOf(Math.max(...row));
}

/** Greedy tokens up to maxPositions, rerunning the whole sequence each step. */
async function greedy(model: Uint8Array | string, prompt: number[]): Promise<number[]> {
  const s = await openSession(model);
  try {
    const tokens = [...prompt];
    while (tokens.length < maxPositions) tokens.push(lastArgmax((await s.run({ input_ids: ids(tokens) })).logits!));
    return tokens;
  } finally {
    await s.release();
  }
}

/** Greedy tokens with the KV cache: the prompt once, then one token a step with the presents fed back. */
async function greedyCached(model: Uint8Array | string, prompt: number[]): Promise<number[]> {
  const s = await openSession(model);
  try {
    const past: Record<string, HostTensor> = {};
    for (const name of s.inputNames.filter((n) => n.startsWith('past_key_values.'))) past[name] = { type: 'float32', dims: [1, heads, 0, dModel / heads], data: new Float32Array(0) };
    const tokens = [...prompt];
    let feed = prompt;
    while (tokens.length < maxPositions) {
      const out = await s.run({ input_ids: ids(feed), ...past });
      for (const name of Object.keys(past)) past[name] = out[name.replace('past_key_values.', 'present.')]!;
      const next = lastArgmax(out.logits!);
      tokens.push(next);
      feed = [next];
    }
    return tokens;
  } finally {
    await s.release();
  }
}

/** Whether `tokens` count on from their first two (the task the decoder learned). */
function counts(tokens: number[]): boolean {
  const step = (tokens[1]! - tokens[0]! + vocab) % vocab;
  return tokens.every((t, i) => t === (tokens[0]! + i * step) % vocab);
}

describe('a GPT-2-style decoder in the exporters pattern', () => {
  let files: TinyDecoderFiles;
  beforeAll(() => { files = ensureTinyDecoder(); }, 120_000);

  it('shape inference sees through its Shape -> Gather/Slice -> Concat -> Reshape arithmetic', () => {
    for (const file of [files.plain, files.kvCache]) {
      const g = loadModel(file).graph;
      const shapes = inferShapes(g);
      expect(shapeDiagnostics(g)).toEqual([]);
      const gemms = g.nodes.filter((n) => n.opType === 'Gemm');
      expect(gemms).toHaveLength(8);
      for (const n of gemms) expect(shapes.get(n.inputs[0]!)?.dims?.[0], n.name).toBe('batch_size*sequence_length');
      expect(shapes.get('logits')?.dims).toEqual(['batch_size', 'sequence_length', vocab]);
    }
    const kv = inferShapes(loadModel(files.kvCache).graph);
    expect(kv.get('present.1.key')?.dims).toEqual(['batch_size', heads, 'past_sequence_length + sequence_length', dModel / heads]);
  });

  it('the symbolic shapes written as value_info load in onnxruntime (all optimizations) with the same outputs', async () => {
    const model = loadModel(files.kvCache);
    const annotated = cloneModel(model);
    expect(writeValueInfo(annotated.graph, inferShapes(annotated.graph))).toBeGreaterThan(150);
    const feeds: Record<string, HostTensor> = { input_ids: { type: 'int64', dims: [2, 3], data: BigInt64Array.from([1n, 2n, 3n, 7n, 9n, 11n]) } };
    for (const i of model.graph.inputs.slice(1)) feeds[i.name] = { type: 'float32', dims: [2, heads, 2, dModel / heads], data: new Float32Array(2 * dModel * 2).fill(0.1) };
    const [ref, got] = [await runOnce(model, feeds), await runOnce(annotated, feeds, { optimization: 'all' })];
    expect(maxRelativeError(ref, got)).toBeLessThan(1e-4);
  });

  it('int8-dynamic quantizes every weight Gemm/MatMul (>= 3x smaller) and generates the same greedy tokens', async () => {
    const model = loadModel(files.plain);
    const before = serializeModel(model).byteLength;
    const report = await quantizeModel(model, { mode: 'int8-dynamic' });
    expect(report.quantized).toEqual({ Gemm: 8, MatMul: 1 });
    // Only the attention products (two activations, no weights) stay float.
    expect(report.leftInFloat.every((l) => l.opType === 'MatMul' && /not a float constant/.test(l.reason))).toBe(true);
    const q = serializeModel(model);
    expect(before / q.byteLength).toBeGreaterThanOrEqual(3);
    let learned = 0;
    for (const prompt of PROMPTS) {
      const float = await greedy(files.plain, prompt);
      if (counts(float)) learned++;
      expect(await greedy(q, prompt), `prompt ${prompt}`).toEqual(float);
    }
    // The weights are trained: the float model continues most counting prompts exactly.
    expect(learned).toBeGreaterThanOrEqual(PROMPTS.length - 1);
  }, 60_000);

  it('with a KV cache: float and int8-dynamic generate the same tokens as the uncached float model', async () => {
    const model = loadModel(files.kvCache);
    const report = await quantizeModel(model, { mode: 'int8-dynamic' });
    expect(report.quantized).toEqual({ Gemm: 8, MatMul: 1 });
    const q = serializeModel(model);
    for (const prompt of PROMPTS.slice(0, 3)) {
      const reference = await greedy(files.plain, prompt);
      expect(await greedyCached(files.kvCache, prompt)).toEqual(reference);
      expect(await greedyCached(q, prompt)).toEqual(reference);
    }
  }, 60_000);
});
