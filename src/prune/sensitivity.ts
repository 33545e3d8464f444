// Per-layer sensitivity: the output error of the whole model when one layer alone is
// pruned at a level. Levels per layer are then chosen as the largest each layer tolerates
// under one error threshold, the threshold being the smallest that reaches the target
// overall sparsity: sensitive layers stay denser, robust ones take more.
import type { Model } from '../ir/graph.js';
import { cloneModel } from '../onnx/clone.js';
import { runSamples, type HostTensor } from '../runtime/ort.js';
import type { Sample } from '../runtime/samples.js';
import { magnitudePrune } from './unstructured.js';
import { prunableLayers } from './weights.js';

export const SENSITIVITY_LEVELS = [0.25, 0.5, 0.75, 0.9];

export interface LayerSensitivity { name: string; weights: number; errors: Record<string, number> }

function relError(a: Record<string, HostTensor>, b: Record<string, HostTensor>): number {
  let err = 0, ref = 0;
  for (const [k, t] of Object.entries(a)) {
    const x = t.data as Float32Array, y = b[k]!.data as Float32Array;
    for (let i = 0; i < x.length; i++) { err += (x[i]! - y[i]!) ** 2; ref += x[i]! ** 2; }
  }
  return ref ? Math.sqrt(err / ref) : Math.sqrt(err);
}

export async function layerSensitivity(model: Model, samples: Sample[], layerNames: string[]): Promise<LayerSensitivity[]> {
  const reference = await runSamples(model, samples);
  const result: LayerSensitivity[] = [];
  for (const name of layerNames) {
    const errors: Record<string, number> = {};
    let weights = 0;
    for (const level of SENSITIVITY_LEVELS) {
      const copy = cloneModel(model);
      const layer = prunableLayers(copy).layers.find((l) => l.name === name)!;
      weights = layer.weight.elementCount;
      magnitudePrune(copy.graph, [layer], level, false);
      const got = await runSamples(copy, samples);
      errors[String(level)] = reference.reduce((s, r, i) => s + relError(r, got[i]!), 0) / reference.length;
    }
    result.push({ name, weights, errors });
  }
  return result;
}

/**
 * Per-layer levels reaching `target` overall sparsity: starting dense, repeatedly raise the
 * layer whose next level costs the least output error per weight removed. Large robust
 * layers take the sparsity; small sensitive ones (often the first) stay dense.
 */
export function chooseLevels(table: LayerSensitivity[], target: number): Map<string, number> {
  const total = table.reduce((s, l) => s + l.weights, 0);
  const levels = new Map(table.map((l) => [l.name, 0]));
  const errorAt = (l: LayerSensitivity, level: number) => (level === 0 ? 0 : l.errors[String(level)]!);
  let removed = 0;
  while (removed / total < target) {
    let best: { layer: LayerSensitivity; next: number; cost: number } | undefined;
    for (const l of table) {
      const current = levels.get(l.name)!;
      const next = SENSITIVITY_LEVELS.find((x) => x > current + 1e-9);
      if (next === undefined) continue;
      const cost = (errorAt(l, next) - errorAt(l, current)) / ((next - current) * l.weights);
      if (!best || cost < best.cost) best = { layer: l, next, cost };
    }
    if (!best) break;
    const current = levels.get(best.layer.name)!;
    // Raise only as far as the target needs: the last step lands exactly on it.
    const needed = current + (target * total - removed) / best.layer.weights;
    const level = Math.min(best.next, needed);
    removed += (level - current) * best.layer.weights;
    levels.set(best.layer.name, level);
  }
  return levels;
}
