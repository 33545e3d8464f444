// What the quantization tests share: a model loaded and optimized as the CLI does before
// quantizing, generated inputs at a chosen size, and the ops onnxruntime actually runs after
// its own QDQ fusions (which is what says whether a Q/DQ group reached an integer kernel).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Model } from '../../src/ir/graph.js';
import { loadModel } from '../../src/onnx/load.js';
import { saveModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { openSession } from '../../src/runtime/ort.js';
import { generateSamples, type Sample } from '../../src/runtime/samples.js';

export async function optimized(file: string): Promise<Model> {
  const m = loadModel(file);
  await optimizeModel(m);
  return m;
}

/** `count` generated samples with the first input at `dims` (for models with symbolic sizes). */
export async function generated(model: Model, dims: number[], count: number, seed: number): Promise<Sample[]> {
  const s = await openSession(model);
  try {
    return generateSamples(s.inputs, count, seed, { shapeOverrides: { [s.inputs[0]!.name]: dims } });
  } finally {
    await s.release();
  }
}

/** Op types (with counts) of the graph onnxruntime runs after optimizing at `level`, one thread. */
export async function ortRuns(model: Model, level: 'extended' | 'all'): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'ort-runs-'));
  saveModel(model, join(dir, 'in.onnx'));
  const s = await ort.InferenceSession.create(join(dir, 'in.onnx'), { graphOptimizationLevel: level, optimizedModelFilePath: join(dir, 'out.onnx'), intraOpNumThreads: 1 });
  await s.release();
  const ops: Record<string, number> = {};
  for (const n of loadModel(join(dir, 'out.onnx')).graph.nodes) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
  return ops;
}
