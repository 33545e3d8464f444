// Unstructured magnitude pruning and N:M semi-structured sparsity. Only weights change:
// the zeroed values are the only difference from the input model.
import { replaceInitializer } from '../ir/mutate.js';
import { Tensor } from '../ir/tensor.js';
import type { Graph } from '../ir/graph.js';
import type { PrunableLayer } from './weights.js';

/** Zeroes the smallest |w| of each layer (per layer) or across layers (global) until `sparsity` of them are zero. */
export function magnitudePrune(graph: Graph, layers: PrunableLayer[], sparsity: number | Map<string, number>, global: boolean): Map<string, number> {
  const achieved = new Map<string, number>();
  if (global && typeof sparsity === 'number') {
    const all: number[] = [];
    for (const l of layers) for (const v of l.weight.toFloat32()) all.push(Math.abs(v));
    all.sort((a, b) => a - b);
    const threshold = all[Math.min(all.length - 1, Math.floor(sparsity * all.length))] ?? 0;
    for (const l of layers) achieved.set(l.name, zeroBelow(graph, l, threshold, Math.round(sparsity * l.weight.elementCount)));
    return achieved;
  }
  for (const l of layers) {
    const s = typeof sparsity === 'number' ? sparsity : sparsity.get(l.name) ?? 0;
    const w = l.weight.toFloat32();
    const sorted = Array.from(w, Math.abs).sort((a, b) => a - b);
    const count = Math.floor(s * w.length);
    achieved.set(l.name, count ? zeroBelow(graph, l, sorted[count - 1]!, count) : 0);
  }
  return achieved;
}

/** Zeroes values with |w| < threshold, then ties at the threshold up to `count` zeros in all; returns the zero share. */
function zeroBelow(graph: Graph, l: PrunableLayer, threshold: number, count: number): number {
  const w = l.weight.toFloat32();
  let zeros = 0;
  for (let i = 0; i < w.length; i++) if (Math.abs(w[i]!) < threshold) { w[i] = 0; zeros++; }
  for (let i = 0; i < w.length && zeros < count; i++) if (w[i] !== 0 && Math.abs(w[i]!) === threshold) { w[i] = 0; zeros++; }
  let total = 0;
  for (const v of w) if (v === 0) total++;
  setWeight(graph, l, w);
  return total / w.length;
}

/** In every group of M consecutive weights along `nmOrder` (input channels for a Conv), keeps the N largest. */
export function nmPrune(graph: Graph, layers: PrunableLayer[], n: number, m: number): Map<string, number> {
  const achieved = new Map<string, number>();
  for (const l of layers) {
    if (l.nmRun % m !== 0) continue;
    const w = l.weight.toFloat32();
    const idx = new Array<number>(m);
    for (let o = 0; o < l.outputs; o++) {
      for (let k0 = 0; k0 < l.fanIn; k0 += m) {
        for (let j = 0; j < m; j++) idx[j] = l.index(o, l.nmOrder[k0 + j]!);
        // Smallest magnitudes first; a stable tie-break by position keeps the output deterministic.
        const order = [...idx].sort((a, b) => Math.abs(w[a]!) - Math.abs(w[b]!) || a - b);
        for (let j = 0; j < m - n; j++) w[order[j]!] = 0;
      }
    }
    setWeight(graph, l, w);
    achieved.set(l.name, 1 - n / m);
  }
  return achieved;
}

/** Stores new values under the weight's own name, keeping dtype and dims. */
export function setWeight(graph: Graph, l: PrunableLayer, values: Float32Array): void {
  const t = Tensor.fromFloat32As(l.weightName, l.weight.dataType, l.weight.dims, values);
  replaceInitializer(graph, t);
  l.weight = t;
}
