// SmoothQuant (Xiao et al. 2023): transformer activations carry a few channels hundreds of
// times larger than the rest, so one per-tensor activation scale wastes most of int8 on
// them. Dividing input channel j of X by s_j = max|X_j|^alpha / max|W_j|^(1 - alpha) and
// multiplying row j of every weight that reads X by s_j is exact in float and moves the
// difficulty into the weights, which per-channel scales handle. The division is folded
// into the constant per-channel scale and shift of X's producer (a LayerNormalization, or
// the Mul(gamma) -> Add(beta) a decomposed LayerNorm ends with), so no op is added.
import type { Graph, Model, Node } from '../../ir/graph.js';
import { DataType } from '../../ir/dtype.js';
import { addInitializer, NameAllocator, replaceInitializer, setInput } from '../../ir/mutate.js';
import { Tensor } from '../../ir/tensor.js';
import { streamActivations } from '../../calibrate/index.js';
import type { Sample } from '../../runtime/samples.js';

const LIMIT = 1e5;

export interface SmoothQuantReport { layers: number; skipped: number }

/** A constant of the producer that scales (or shifts) channel j: divided by s_j. */
interface Fold { node: Node; input: number }

interface Site { x: Node[]; value: string; channels: number; folds: Fold[] }

export async function smoothQuant(model: Model, samples: Sample[], alpha: number): Promise<SmoothQuantReport> {
  const g = model.graph;
  const { sites, skipped } = findSites(g);
  if (!sites.length) return { layers: 0, skipped };
  const maxAbs = new Map(sites.map((s) => [s.value, new Float64Array(s.channels)]));
  await streamActivations(model, sites.map((s) => s.value), samples, (_i, values) => {
    for (const s of sites) {
      const t = values.get(s.value);
      if (!t || t.type !== 'float32') continue;
      const d = t.data as Float32Array;
      const m = maxAbs.get(s.value)!;
      for (let i = 0; i < d.length; i++) { const c = i % s.channels; const v = Math.abs(d[i]!); if (v > m[c]!) m[c] = v; }
    }
  });
  const names = new NameAllocator(g);
  let layers = 0;
  for (const site of sites) {
    const wMax = new Float64Array(site.channels);
    for (const n of site.x) forEachRow(g, n, (j, row) => { for (const v of row) wMax[j] = Math.max(wMax[j]!, Math.abs(v)); });
    const xMax = maxAbs.get(site.value)!;
    const s = Float64Array.from(xMax, (x, j) => (x > 0 && wMax[j]! > 0 ? Math.min(LIMIT, Math.max(1 / LIMIT, x ** alpha / wMax[j]! ** (1 - alpha))) : 1));
    for (const f of site.folds) rescaleConstant(g, f, s, names);
    for (const n of site.x) rescaleWeightRows(g, n, s, names);
    layers += site.x.length;
  }
  return { layers, skipped };
}

/** Weight of a MatMul/Gemm reading X as input 0: [K, N] (or [N, K] with transB), constant float. */
function weightOf(g: Graph, n: Node) {
  if (!n.isOnnx() || !['MatMul', 'Gemm'].includes(n.opType)) return undefined;
  if (n.opType === 'Gemm' && n.getInt('transA', 0)) return undefined;
  const w = g.initializers.get(n.inputs[1] ?? '');
  return w && w.dataType === DataType.FLOAT && w.dims.length === 2 ? w : undefined;
}

function forEachRow(g: Graph, n: Node, visit: (j: number, row: number[]) => void): void {
  const w = weightOf(g, n)!;
  const v = w.toFloat32();
  const transB = n.opType === 'Gemm' && n.getInt('transB', 0) === 1;
  const [a, b] = w.dims as [number, number];
  const k = transB ? b : a;
  for (let j = 0; j < k; j++) visit(j, transB ? Array.from({ length: a }, (_, r) => v[r * b + j]!) : Array.from(v.subarray(j * b, (j + 1) * b)));
}

function rescaleWeightRows(g: Graph, n: Node, s: Float64Array, names: NameAllocator): void {
  const w = weightOf(g, n)!;
  const v = w.toFloat32();
  const transB = n.opType === 'Gemm' && n.getInt('transB', 0) === 1;
  const [a, b] = w.dims as [number, number];
  for (let r = 0; r < a; r++) for (let c = 0; c < b; c++) v[r * b + c]! *= s[transB ? c : r]!;
  store(g, n, 1, Tensor.fromFloat32(w.name, w.dims, v), names);
}

function rescaleConstant(g: Graph, f: Fold, s: Float64Array, names: NameAllocator): void {
  const t = g.initializers.get(f.node.inputs[f.input]!)!;
  const v = t.toFloat32();
  const channels = s.length;
  const out = new Float32Array(channels);
  // A scalar constant becomes a per-channel one.
  for (let j = 0; j < channels; j++) out[j] = v[v.length === 1 ? 0 : j]! / s[j]!;
  store(g, f.node, f.input, Tensor.fromFloat32(t.name, v.length === 1 ? [channels] : t.dims, out), names);
}

/** Writes a changed constant: in place when only this node reads it, else under a fresh name. */
function store(g: Graph, n: Node, input: number, t: Tensor, names: NameAllocator): void {
  if ((g.consumers().get(t.name) ?? []).length === 1 && !g.inputs.some((v) => v.name === t.name)) { replaceInitializer(g, t); return; }
  const name = names.next(`${t.name}_smoothed`);
  addInitializer(g, Tensor.fromFloat32(name, t.dims, t.toFloat32()));
  setInput(n, input, name);
}

/** True for a constant float vector along the last axis ([K], [1, .., K]) or a scalar. */
function channelConstant(g: Graph, name: string | undefined, channels: number): boolean {
  const t = name ? g.initializers.get(name) : undefined;
  if (!t || t.dataType !== DataType.FLOAT) return false;
  if (t.elementCount === 1) return t.dims.length <= 1;
  return t.elementCount === channels && t.dims[t.dims.length - 1] === channels;
}

/**
 * Values read only by MatMul/Gemm with constant weights, produced by an op whose last step
 * scales each channel by a constant (so 1/s folds into it exactly).
 */
export function findSites(g: Graph): { sites: Site[]; skipped: number } {
  const consumers = g.consumers();
  const producers = g.producers();
  const outputs = g.outputNames();
  const sites: Site[] = [];
  let skipped = 0;
  const seen = new Set<string>();
  for (const node of g.nodes) {
    if (!weightOf(g, node)) continue;
    const value = node.inputs[0]!;
    if (seen.has(value)) continue;
    seen.add(value);
    // Shape reads only the dims, which rescaling leaves alone.
    const readers = (consumers.get(value) ?? []).filter((r) => !r.isOnnx('Shape'));
    const channels = g.initializers.get(node.inputs[1]!)!.dims[node.opType === 'Gemm' && node.getInt('transB', 0) ? 1 : 0]!;
    if (outputs.has(value) || !readers.every((r) => r.inputs[0] === value && r.inputs[1] !== value && weightOf(g, r) && g.initializers.get(r.inputs[1]!)!.dims[r.opType === 'Gemm' && r.getInt('transB', 0) ? 1 : 0] === channels)) { skipped++; continue; }
    const folds = foldsOf(g, producers.get(value), channels, consumers, outputs);
    if (!folds) { skipped++; continue; }
    sites.push({ x: readers, value, channels, folds });
  }
  return { sites, skipped };
}

function foldsOf(g: Graph, p: Node | undefined, channels: number, consumers: Map<string, Node[]>, outputs: Set<string>): Fold[] | undefined {
  if (!p || !p.isOnnx()) return undefined;
  if (p.opType === 'LayerNormalization' && p.getInt('axis', -1) === -1 && channelConstant(g, p.inputs[1], channels) && (!p.inputs[2] || channelConstant(g, p.inputs[2], channels))) {
    return p.inputs[2] ? [{ node: p, input: 1 }, { node: p, input: 2 }] : [{ node: p, input: 1 }];
  }
  const constantAt = (n: Node) => n.inputs.findIndex((i) => channelConstant(g, i, channels));
  if (p.opType === 'Mul' && constantAt(p) >= 0) return [{ node: p, input: constantAt(p) }];
  if (p.opType === 'Add' && constantAt(p) >= 0) {
    const other = p.inputs[1 - constantAt(p)]!;
    const m = g.producers().get(other);
    const onlyHere = (consumers.get(other) ?? []).length === 1 && !outputs.has(other);
    if (m && m.isOnnx('Mul') && onlyHere && constantAt(m) >= 0) return [{ node: p, input: constantAt(p) }, { node: m, input: constantAt(m) }];
  }
  return undefined;
}
