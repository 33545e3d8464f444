// Each layer's output error E||(W_q - W) x + (b_q - b)||^2 in a quantized model, measured
// with the input statistics of the float model on held-out samples: what GPTQ and bias
// correction promise to reduce against plain rounding.
import type { Graph, Model, Node } from '../../../src/ir/graph.js';
import { collectLayerStats, layerName } from '../../../src/calibrate/index.js';
import { momentsOf } from '../../../src/prune/data-aware.js';
import { meanSquaredChange } from '../../../src/prune/reconstruct.js';
import { biasOf, describe } from '../../../src/prune/weights.js';
import type { Sample } from '../../../src/runtime/samples.js';

/** The float value a quantized model feeds at `name`: an initializer, or a DequantizeLinear of initializers. */
function constantValue(g: Graph, name: string): Float32Array | undefined {
  const t = g.initializers.get(name);
  if (t) return t.toFloat32();
  const dq = g.producers().get(name);
  if (!dq || dq.opType !== 'DequantizeLinear') return undefined;
  const [x, s, z] = dq.inputs.map((i) => (i ? g.initializers.get(i) : undefined));
  if (!x || !s) return undefined;
  const q = x.toFloat32(), scales = s.toFloat32(), zps = z?.toFloat32();
  if (scales.length === 1) return q.map((v) => (v - (zps?.[0] ?? 0)) * scales[0]!);
  const axis = dq.getInt('axis', 1);
  const inner = x.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  return q.map((v, i) => { const c = Math.floor(i / inner) % x.dims[axis]!; return (v - (zps?.[c] ?? 0)) * scales[c]!; });
}

/** Sum over the float model's Conv/Gemm/MatMul layers of the output error of `quantized`, relative to the layers' output energy. */
export async function layerOutputError(float: Model, quantized: Model, samples: Sample[]): Promise<number> {
  const g = float.graph;
  const byName = new Map(quantized.graph.nodes.map((n) => [layerName(n), n]));
  const layers = g.nodes.filter((n) => ['Conv', 'Gemm', 'MatMul'].includes(n.opType) && g.initializers.has(n.inputs[1] ?? '') && byName.has(layerName(n)));
  const { stats } = await collectLayerStats(float, layers.map((n) => ({ node: n, weightDims: g.initializers.get(n.inputs[1]!)!.dims })), samples, { quiet: true });
  let error = 0, energy = 0;
  for (const n of layers) {
    const q = byName.get(layerName(n))!;
    const l = describe(n, layerName(n), n.inputs[1]!, g.initializers.get(n.inputs[1]!)!, g)!;
    const wq = constantValue(quantized.graph, q.inputs[1]!);
    const s = stats.get(layerName(n));
    if (!wq || !s) continue;
    const w = l.weight.toFloat32();
    const biasName = biasOf(g, n, l.outputs);
    const b = biasName ? g.initializers.get(biasName)!.toFloat32() : new Float32Array(l.outputs);
    const bq = quantizedBias(quantized.graph, q, biasName, l.outputs) ?? b;
    const perGroup = l.outputs / s.groups;
    for (let grp = 0; grp < s.groups; grp++) {
      const m = momentsOf(s, grp);
      const d = new Float64Array(perGroup * l.fanIn), ref = new Float64Array(perGroup * l.fanIn);
      for (let r = 0; r < perGroup; r++) for (let k = 0; k < l.fanIn; k++) {
        const i = l.index(grp * perGroup + r, k);
        d[r * l.fanIn + k] = wq[i]! - w[i]!;
        ref[r * l.fanIn + k] = w[i]!;
      }
      const db = Float64Array.from({ length: perGroup }, (_, r) => bq[grp * perGroup + r]! - b[grp * perGroup + r]!);
      error += meanSquaredChange(d, perGroup, db, m);
      energy += meanSquaredChange(ref, perGroup, undefined, m);
    }
  }
  return error / energy;
}

function quantizedBias(qg: Graph, q: Node, floatBiasName: string | undefined, outputs: number): Float32Array | undefined {
  if (q.opType === 'Conv' || q.opType === 'Gemm') return q.inputs[2] ? constantValue(qg, q.inputs[2]) : undefined;
  if (!floatBiasName) return undefined;
  const add = (qg.consumers().get(q.outputs[0]!) ?? []).find((n) => n.opType === 'Add');
  const other = add?.inputs.find((i) => i !== q.outputs[0]);
  const v = other ? constantValue(qg, other) : undefined;
  return v && v.length === outputs ? v : undefined;
}
