// Which activations' quantization hurts the outputs most, each measured alone: every
// QuantizeLinear -> DequantizeLinear pair of a quantized model gets a switch (a scalar graph
// input m), its readers see c + m * (dq(q(x)) - c) with c the float value clamped to the
// pair's range, and the model runs once per pair with only that switch on. One session serves
// every pair, where requantizing per candidate would rebuild the model each time. The error
// a pair alone causes at the outputs (||out - out_float||^2 / ||out_float||^2, summed over
// outputs and samples) is what leaving it in float or 16 bits would remove, to first order.
import { Node, type Graph, type Model } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { NameAllocator, addGraphInput, addInitializer, insertNodes, replaceAllUses } from '../ir/mutate.js';
import { Tensor } from '../ir/tensor.js';
import { cloneModel } from '../onnx/clone.js';
import { openSession, type HostTensor } from '../runtime/ort.js';
import type { Sample } from '../runtime/samples.js';
import { perTensorErrors } from '../measure/eval.js';
import { qdqPairs } from './qdq-pairs.js';

export interface TensorSensitivity {
  /** The planned tensor (as its readers see it). */
  tensor: string;
  /** Output error this pair's quantization alone causes (relative, squared). */
  loss: number;
}

/** The Q/DQ pairs of `quantized`, ranked by the output error each causes alone, worst first. */
export async function pairSensitivity(quantized: Model, samples: Sample[], onProgress?: (done: number, total: number) => void): Promise<TensorSensitivity[]> {
  const probe = cloneModel(quantized);
  const graph = probe.graph;
  const pairs = qdqPairs(graph);
  const names = new NameAllocator(graph);
  const switches: string[] = [];
  const added: Node[] = [];
  for (const p of pairs) {
    const m = names.next(`${p.y}_switch`);
    addGraphInput(graph, { name: m, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [] } } } });
    switches.push(m);
    const mixed = names.next(`${p.y}_switched`);
    replaceAllUses(graph, p.y, mixed);
    const scaled = p.factor === 1 ? p.x : out(graph, names, added, 'Mul', [p.x, constant(graph, names, p.y, 'factor', p.factor)]);
    const c = out(graph, names, added, 'Clip', [scaled, constant(graph, names, p.y, 'lo', p.lo), constant(graph, names, p.y, 'hi', p.hi)]);
    const delta = out(graph, names, added, 'Sub', [p.y, c]);
    added.push(new Node({ opType: 'Add', inputs: [c, out(graph, names, added, 'Mul', [delta, m])], outputs: [mixed] }));
  }
  insertNodes(graph, added);
  const session = await openSession(probe);
  const feed = (on: number) => Object.fromEntries(switches.map((m, i) => [m, { type: 'float32', dims: [], data: Float32Array.of(i === on ? 1 : 0) } as HostTensor]));
  try {
    const reference = [];
    for (const s of samples) reference.push(await session.run({ ...s, ...feed(-1) }));
    const loss = new Float64Array(pairs.length);
    for (let i = 0; i < pairs.length; i++) {
      for (const [k, s] of samples.entries()) loss[i] += relSq(reference[k]!, await session.run({ ...s, ...feed(i) }));
      onProgress?.(i + 1, pairs.length);
    }
    return pairs.map((p, i) => ({ tensor: p.tensor, loss: loss[i]! / samples.length })).sort((a, b) => b.loss - a.loss);
  } finally {
    await session.release();
  }
}

function relSq(ref: Record<string, HostTensor>, got: Record<string, HostTensor>): number {
  let total = 0;
  for (const [name, r] of Object.entries(ref)) {
    const a = r.data, b = got[name]?.data;
    if (!(a instanceof Float32Array) || !(b instanceof Float32Array)) continue;
    let err = 0, norm = 0;
    for (let k = 0; k < a.length; k++) { const d = a[k]! - b[k]!; err += d * d; norm += a[k]! * a[k]!; }
    total += norm ? err / norm : 0;
  }
  return total;
}

function out(graph: Graph, names: NameAllocator, added: Node[], opType: string, inputs: string[]): string {
  const o = names.next(`${inputs[0]}_${opType.toLowerCase()}`);
  added.push(new Node({ opType, inputs, outputs: [o] }));
  return o;
}

function constant(graph: Graph, names: NameAllocator, base: string, what: string, value: number): string {
  return addInitializer(graph, Tensor.fromFloat32(names.next(`${base}_${what}`), [], Float32Array.of(value)));
}

/**
 * What an accuracy fallback changes, most harmful first, one unit per step: with '16-bit',
 * one activation per unit; with 'float', the nodes around one activation (its producer, back
 * through a Relu/Clip or constant scale the quantizer absorbs, and its readers), so that its
 * Q/DQ pair disappears. Without Q/DQ pairs (int8-dynamic), each quantized node that adds
 * error (eval's per-tensor ranking) is a unit. Node names are `original`'s, which every
 * quantization of it shares.
 */
export async function fallbackUnits(original: Model, quantized: Model, samples: Sample[], kind: 'float' | '16-bit', quantizedOps?: Set<string>): Promise<string[][]> {
  const ranked = qdqPairs(quantized.graph).length ? (await pairSensitivity(quantized, samples.slice(0, 4))).map((t) => t.tensor) : [];
  if (kind === '16-bit') return ranked.map((t) => [t]);
  if (!ranked.length) {
    const errors = await perTensorErrors(original, quantized, samples.slice(0, 16));
    // Every quantized node may go back (its error may show only downstream); without the op types, those that add error.
    return errors.filter((t) => (quantizedOps ? quantizedOps.has(t.opType) : t.added > 0)).map((t) => [t.node]);
  }
  const graph = original.graph;
  const producers = graph.producers();
  const consumers = graph.consumers();
  const nameOf = (n: Node) => n.name || n.outputs[0] || '?';
  const seen = new Set<string>();
  const units: string[][] = [];
  for (const t of ranked) {
    const around: Node[] = [...(consumers.get(t) ?? [])];
    for (let p = producers.get(t); p; p = ABSORBABLE.has(p.opType) && p.inputs[0] ? producers.get(p.inputs[0]) : undefined) {
      around.push(p);
      if (!ABSORBABLE.has(p.opType)) break;
    }
    const unit = around.map(nameOf).filter((n) => !seen.has(n));
    for (const n of unit) seen.add(n);
    if (unit.length) units.push(unit);
  }
  return units;
}

/** Ops the static quantizer folds into the producer's output quantization. */
const ABSORBABLE = new Set(['Relu', 'Clip', 'Mul', 'Div']);
