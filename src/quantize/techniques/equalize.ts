// Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization"): in a chain
// Conv A -> f -> Conv B where f(x / s) = f(x) / s for s > 0 (ReLU, LeakyRelu, nothing),
// dividing A's output channel c (weights and bias) by s_c and multiplying B's input
// channel c by s_c leaves the output unchanged in exact arithmetic. With
// s_c = sqrt(r_A(c) / r_B(c)) both channels end with the range sqrt(r_A r_B): a depthwise
// conv's channels, whose ranges differ by orders of magnitude, then share one per-tensor
// scale far better. ReLU6/Clip and HardSwish are not positively homogeneous, so chains
// through them are left alone (equalizing through them would change the output).
import type { Graph, Node } from '../../ir/graph.js';
import { DataType } from '../../ir/dtype.js';
import { replaceInitializer } from '../../ir/mutate.js';
import { Tensor } from '../../ir/tensor.js';

/** Activations that commute with a positive per-channel scale. */
const HOMOGENEOUS = new Set(['Relu', 'LeakyRelu']);
const SWEEPS = 20;
/** Scales are kept in [1/LIMIT, LIMIT]: a channel that is dead on one side must not blow up the other. */
const LIMIT = 1e4;

export interface EqualizeReport {
  /** Conv pairs equalized. */
  pairs: number;
  /** Mean over pairs of max(range) / min(range) of A's output channels, before and after. */
  spreadBefore: number;
  spreadAfter: number;
}

interface Pair { a: Node; b: Node; channels: number }

/** Equalizes every eligible Conv -> (ReLU | LeakyRelu)? -> Conv chain of the main graph in place. */
export function equalizeCrossLayer(graph: Graph): EqualizeReport {
  const pairs = findPairs(graph);
  const weights = new Map<string, Float32Array>();
  const load = (name: string) => { let w = weights.get(name); if (!w) { w = graph.findInitializer(name)!.toFloat32(); weights.set(name, w); } return w; };
  const spread = (p: Pair) => { const r = outputRanges(load(p.a.inputs[1]!), p.channels); return Math.max(...r) / Math.max(1e-12, Math.min(...r.filter((v) => v > 0))); };
  const before = pairs.map(spread);
  // A conv is B of one pair and A of the next: sweep until the scales settle.
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    let worst = 0;
    for (const p of pairs) worst = Math.max(worst, equalizePair(p, load, graph));
    if (worst < 1e-3) break;
  }
  for (const [name, values] of weights) {
    const t = graph.findInitializer(name)!;
    replaceInitializer(graph, Tensor.fromFloat32(name, t.dims, values));
  }
  const after = pairs.map(spread);
  const mean = (v: number[]) => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : 1);
  return { pairs: pairs.length, spreadBefore: mean(before), spreadAfter: mean(after) };
}

/** Rescales one pair; returns the largest |log s| applied (0 when already equal). */
function equalizePair(p: Pair, load: (name: string) => Float32Array, graph: Graph): number {
  const wa = load(p.a.inputs[1]!);
  const wb = load(p.b.inputs[1]!);
  const bias = p.a.inputs[2] ? load(p.a.inputs[2]) : undefined;
  const ra = outputRanges(wa, p.channels);
  const rb = inputRanges(wb, graph.findInitializer(p.b.inputs[1]!)!.dims, p.b.getInt('group', 1));
  const innerA = wa.length / p.channels;
  const dimsB = graph.findInitializer(p.b.inputs[1]!)!.dims;
  const perGroupIn = dimsB[1]!;
  const perGroupOut = dimsB[0]! / (p.channels / perGroupIn);
  const innerB = wb.length / (dimsB[0]! * perGroupIn);
  let worst = 0;
  for (let c = 0; c < p.channels; c++) {
    if (!(ra[c]! > 0) || !(rb[c]! > 0)) continue;
    const s = Math.min(LIMIT, Math.max(1 / LIMIT, Math.sqrt(ra[c]! / rb[c]!)));
    worst = Math.max(worst, Math.abs(Math.log(s)));
    for (let k = 0; k < innerA; k++) wa[c * innerA + k]! /= s;
    if (bias) bias[c]! /= s;
    const group = Math.floor(c / perGroupIn);
    const local = c % perGroupIn;
    for (let o = group * perGroupOut; o < (group + 1) * perGroupOut; o++) {
      const base = (o * perGroupIn + local) * innerB;
      for (let k = 0; k < innerB; k++) wb[base + k]! *= s;
    }
  }
  return worst;
}

/** max |w| of each output channel of a [K, ...] weight. */
function outputRanges(w: Float32Array, channels: number): number[] {
  const inner = w.length / channels;
  const out = new Array<number>(channels).fill(0);
  for (let c = 0; c < channels; c++) for (let k = 0; k < inner; k++) out[c] = Math.max(out[c]!, Math.abs(w[c * inner + k]!));
  return out;
}

/** max |w| over what reads each input channel of a grouped [K, C/group, ...] weight. */
function inputRanges(w: Float32Array, dims: number[], group: number): number[] {
  const [k, perGroupIn] = [dims[0]!, dims[1]!];
  const perGroupOut = k / group;
  const inner = w.length / (k * perGroupIn);
  const out = new Array<number>(perGroupIn * group).fill(0);
  for (let o = 0; o < k; o++) {
    const g = Math.floor(o / perGroupOut);
    for (let ci = 0; ci < perGroupIn; ci++) {
      const base = (o * perGroupIn + ci) * inner;
      const c = g * perGroupIn + ci;
      for (let t = 0; t < inner; t++) out[c] = Math.max(out[c]!, Math.abs(w[base + t]!));
    }
  }
  return out;
}

/**
 * The chains where rescaling is exact: constant float weights (and bias) read by their
 * conv alone, an intermediate that nothing else reads and that is no graph output, and
 * channel counts that line up.
 */
export function findPairs(graph: Graph): Pair[] {
  const consumers = graph.consumers();
  const outputs = graph.outputNames();
  const onlyReader = (value: string) => { const r = consumers.get(value) ?? []; return r.length === 1 && !outputs.has(value) ? r[0]! : undefined; };
  const ownWeight = (node: Node, i: number) => {
    const name = node.inputs[i];
    const t = name ? graph.initializers.get(name) : undefined;
    return Boolean(t && t.dataType === DataType.FLOAT && (consumers.get(name!) ?? []).length === 1 && !graph.inputs.some((v) => v.name === name));
  };
  const isConv = (n: Node) => n.isOnnx('Conv') && ownWeight(n, 1) && (!n.inputs[2] || ownWeight(n, 2));
  const pairs: Pair[] = [];
  for (const a of graph.nodes) {
    if (!isConv(a)) continue;
    let next = onlyReader(a.outputs[0]!);
    if (next && next.isOnnx() && HOMOGENEOUS.has(next.opType) && next.inputs.length === 1) next = onlyReader(next.outputs[0]!);
    if (!next || !isConv(next) || next === a) continue;
    const channels = graph.initializers.get(a.inputs[1]!)!.dims[0]!;
    const dimsB = graph.initializers.get(next.inputs[1]!)!.dims;
    if (dimsB[1]! * next.getInt('group', 1) !== channels || a.inputs[1] === next.inputs[1]) continue;
    pairs.push({ a, b: next, channels });
  }
  return pairs;
}
