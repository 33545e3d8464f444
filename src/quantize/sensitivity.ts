// Which quantizations hurt the outputs most, each measured alone: every QuantizeLinear ->
// DequantizeLinear pair of a quantized model, its If branches' included (and, given the float model, every int8 weight)
// gets a switch (a scalar graph input m); its readers see base + m * (q - base), base being
// the float value (an activation clamped to the pair's range: clipping stays whatever the
// bit width), and the model runs once per switch with only that one on. One session serves
// them all, where requantizing per candidate would rebuild the model each time. The error one
// switch causes at the outputs (||out - out_float||^2 / ||out_float||^2, summed over outputs)
// is what sending that quantization back to float or 16 bits would remove, to first order.
import { Node, type Graph, type Model } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { NameAllocator, addGraphInput, addInitializer, insertNodes, renameOutput, replaceAllUses } from '../ir/mutate.js';
import { Tensor } from '../ir/tensor.js';
import { cloneModel } from '../onnx/clone.js';
import { openSession, type HostTensor } from '../runtime/ort.js';
import type { Sample } from '../runtime/samples.js';
import { perTensorErrors, valuesOf } from '../measure/eval.js';
import { Progress } from '../measure/progress.js';
import { qdqPairs, quantizedGraphs } from './qdq-pairs.js';
import { QUANTIZES_ITS_OUTPUT } from './qdq-placement.js';

export interface Sensitivity {
  /** An activation's Q/DQ pair (the tensor its readers see), or a weighted node's int8 weight (the node). */
  kind: 'activation' | 'weight';
  name: string;
  /** Output error this quantization alone causes (relative, squared, mean over samples). */
  loss: number;
}

/**
 * The Q/DQ pairs of `quantized`, and with `float` (the model before quantization, whose
 * weights it then reads) the int8 weights too, ranked by the output error each causes alone,
 * worst first. `float` must hold the very weights that were rounded: not after equalization
 * or SmoothQuant, which rescale them.
 */
export async function quantizationSensitivity(quantized: Model, samples: Sample[], float?: Model): Promise<Sensitivity[]> {
  const probe = await openProbe(quantized, samples, float);
  try {
    const loss: number[] = [];
    const progress = new Progress('ranking quantizations', probe.entries.length);
    for (let i = 0; i < probe.entries.length; i++) {
      loss.push(await probe.loss([i]));
      progress.tick(i + 1);
    }
    progress.done();
    return probe.entries.map((e, i) => ({ ...e, loss: loss[i]! })).sort((a, b) => b.loss - a.loss);
  } finally {
    await probe.release();
  }
}

/** A quantized model with a switch per quantization, run on fixed samples. */
export interface Probe {
  entries: Omit<Sensitivity, 'loss'>[];
  /** Output error with the quantizations at these entry indices on and every other float (relative, squared, mean over samples). */
  loss(on: number[]): Promise<number>;
  release(): Promise<void>;
}

/** The probe session behind quantizationSensitivity (see there for `float`). */
export async function openProbe(quantized: Model, samples: Sample[], float?: Model): Promise<Probe> {
  const probe = cloneModel(quantized);
  const main = probe.graph;
  const names = new NameAllocator(main);
  const entries: Omit<Sensitivity, 'loss'>[] = [];
  const switches: string[] = [];
  const floatNodes = new Map(float ? quantizedGraphs(float.graph).flatMap((g) => g.nodes.map((n) => [n.name, { n, g }] as const)) : []);
  // Pairs inside If branches get switches too: a branch reads its switch from the main graph by name.
  for (const graph of quantizedGraphs(main)) {
    const added: Node[] = [];
    // Readers of `y` see base + m * (y - base): the float value while the switch is off.
    const producers0 = graph.producers();
    const outputs = graph.outputNames();
    const addSwitch = (y: string, base: string) => {
      const m = names.next(`${y}_switch`);
      addGraphInput(main, { name: m, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [] } } } });
      switches.push(m);
      const mixed = names.next(`${y}_switched`);
      replaceAllUses(graph, y, mixed);
      // A graph output keeps its name: it becomes the switched value, and the DQ output an inner one.
      if (outputs.has(y)) {
        const inner = names.next(`${y}_quantized`);
        renameOutput(producers0.get(y)!, y, inner);
        added.push(new Node({ opType: 'Identity', inputs: [mixed], outputs: [y] }));
        y = inner;
      }
      const delta = out(names, added, 'Sub', [y, base]);
      added.push(new Node({ opType: 'Add', inputs: [base, out(names, added, 'Mul', [delta, m])], outputs: [mixed] }));
    };
    for (const p of qdqPairs(graph)) {
      const scaled = p.factor === 1 ? p.x : out(names, added, 'Mul', [p.x, constant(graph, names, p.y, 'factor', p.factor)]);
      // Min then Max, not Clip: Clip takes its bounds as inputs only from opset 11.
      addSwitch(p.y, out(names, added, 'Max', [out(names, added, 'Min', [scaled, constant(graph, names, p.y, 'hi', p.hi)]), constant(graph, names, p.y, 'lo', p.lo)]));
      entries.push({ kind: 'activation', name: p.tensor });
    }
    if (float) {
      const producers = graph.producers();
      for (const node of [...graph.nodes]) {
        const dq = producers.get(node.inputs[1] ?? '');
        const at = floatNodes.get(node.name);
        const w = at?.n.inputs[1];
        const weight = w ? at.g.findInitializer(w) : undefined;
        const q = dq?.opType === 'DequantizeLinear' ? graph.findInitializer(dq.inputs[0] ?? '') : undefined;
        if (!node.name || !weight || !q || weight.dataType !== DataType.FLOAT || weight.dims.join() !== q.dims.join()) continue;
        addSwitch(node.inputs[1]!, addInitializer(graph, Tensor.fromBytes(names.next(`${w}_float`), DataType.FLOAT, weight.dims, weight.rawBytes())));
        entries.push({ kind: 'weight', name: node.name });
      }
    }
    insertNodes(graph, added);
  }
  const session = await openSession(probe);
  const feed = (on: Set<number>) => Object.fromEntries(switches.map((m, i) => [m, { type: 'float32', dims: [], data: Float32Array.of(on.has(i) ? 1 : 0) } as HostTensor]));
  const reference: Record<string, HostTensor>[] = [];
  try {
    for (const s of samples) reference.push(await session.run({ ...s, ...feed(new Set()) }));
  } catch (err) {
    await session.release();
    throw err;
  }
  return {
    entries,
    async loss(on) {
      const set = new Set(on);
      let total = 0;
      for (const [k, s] of samples.entries()) total += relSq(reference[k]!, await session.run({ ...s, ...feed(set) }));
      return total / samples.length;
    },
    release: () => session.release(),
  };
}

/** ||got - ref||^2 / ||ref||^2, summed over the float (float32, float16) outputs. */
export function relSq(ref: Record<string, HostTensor>, got: Record<string, HostTensor>): number {
  let total = 0;
  for (const [name, r] of Object.entries(ref)) {
    const other = got[name];
    if (!other) continue;
    const a = valuesOf(r), b = valuesOf(other);
    if (!(a instanceof Float32Array) || !(b instanceof Float32Array)) continue;
    let err = 0, norm = 0;
    for (let k = 0; k < a.length; k++) { const d = a[k]! - b[k]!; err += d * d; norm += a[k]! * a[k]!; }
    total += norm ? err / norm : 0;
  }
  return total;
}

function out(names: NameAllocator, added: Node[], opType: string, inputs: string[]): string {
  const o = names.next(`${inputs[0]}_${opType.toLowerCase()}`);
  added.push(new Node({ opType, inputs, outputs: [o] }));
  return o;
}

function constant(graph: Graph, names: NameAllocator, base: string, what: string, value: number): string {
  return addInitializer(graph, Tensor.fromFloat32(names.next(`${base}_${what}`), [], Float32Array.of(value)));
}

/**
 * What an accuracy fallback changes, most harmful first, one unit per step: with '16-bit',
 * one activation per unit (weights stay int8); with 'float', the node of a harmful weight, or
 * the nodes around a harmful activation so that its Q/DQ pair disappears: its readers, and a
 * Conv producing it (back through a Relu/Clip or constant scale the quantizer absorbs). Without
 * Q/DQ pairs (int8-dynamic), each quantized node eval's per-tensor ranking names is a unit.
 * `rescaled`: the recipe equalized, smoothed or pruned the weights, so the float model's are not the
 * ones rounded and weights are not switched. Node names are `original`'s, which every
 * quantization of it shares.
 */
export async function fallbackUnits(original: Model, quantized: Model, samples: Sample[], kind: 'float' | '16-bit', o: { quantizedOps?: Set<string>; rescaled?: boolean } = {}): Promise<string[][]> {
  const hasPairs = quantizedGraphs(quantized.graph).some((g) => qdqPairs(g).length > 0);
  const ranked = hasPairs ? await quantizationSensitivity(quantized, samples.slice(0, 4), kind === 'float' && !o.rescaled ? original : undefined) : [];
  if (kind === '16-bit') return ranked.filter((e) => e.kind === 'activation').map((e) => [e.name]);
  if (!hasPairs) {
    const errors = await perTensorErrors(original, quantized, samples.slice(0, 16));
    // Every quantized node may go back (its error may show only downstream); without the op types, those that add error.
    return errors.filter((t) => (o.quantizedOps ? o.quantizedOps.has(t.opType) : t.added > 0)).map((t) => [t.node]);
  }
  return nodesAround(original, quantized, ranked).filter((u) => u.length > 0);
}

/**
 * The nodes of `original` to return to float to undo each quantization of `quantized` (made
 * from it), in order, one unit each (a node already in an earlier unit is not repeated): the node of a weight; the readers
 * of an activation and a Conv producing it (QLinearConv quantizes its own output), back
 * through a Relu/Clip or constant scale the quantizer absorbs, so that its pair disappears.
 * One unit per entry, without the nodes of `except` or of an earlier unit: empty where they
 * hold them all.
 */
export function nodesAround(original: Model, quantized: Model, ranked: Omit<Sensitivity, 'loss'>[], o: { except?: Iterable<string> } = {}): string[][] {
  // Value and node names are unique across the main graph and its If branches: one map serves them all.
  const graphs = quantizedGraphs(original.graph);
  const producers = new Map(graphs.flatMap((g) => [...g.producers()]));
  const consumers = new Map<string, Node[]>();
  for (const g of graphs) for (const [name, list] of g.consumers()) consumers.set(name, [...(consumers.get(name) ?? []), ...list]);
  const nameOf = (n: Node) => n.name || n.outputs[0] || '?';
  const isScalar = (name: string) => graphs.some((g) => g.findInitializer(name)?.dims.reduce((a, b) => a * b, 1) === 1);
  // What the quantization did, read from the quantized model by node name (an unnamed node is
  // taken as absorbed and in integer, which can only send back more than needed).
  const qGraphs = quantizedGraphs(quantized.graph);
  const qNodes = new Map(qGraphs.flatMap((g) => g.nodes.filter((n) => n.name).map((n) => [n.name, n] as const)));
  const qProducers = new Map(qGraphs.flatMap((g) => [...g.producers()]));
  const absorbed = (n: Node) => (n.opType === 'Relu' || n.opType === 'Clip' || ((n.opType === 'Mul' || n.opType === 'Div') && n.inputs.some(isScalar))) && !(n.name && qNodes.has(n.name));
  const inInteger = (n: Node) => { const q = n.name ? qNodes.get(n.name) : undefined; return !q || q.inputs.some((i) => qProducers.get(i)?.opType === 'DequantizeLinear'); };
  const exclude = new Set(o.except ?? []);
  const units: string[][] = [];
  for (const e of ranked) {
    const around: Node[] = [];
    if (e.kind === 'weight') around.push(...graphs.flatMap((g) => g.nodes.filter((n) => n.name === e.name)));
    else {
      around.push(...(consumers.get(e.name) ?? []));
      // An op that quantizes its own output (QLinearConv, the integer ops) goes too, found
      // back through what the quantizer absorbs into it: a Relu/Clip, a scalar Mul/Div.
      const chain: Node[] = [];
      for (let p = producers.get(e.name); p; p = absorbed(p) ? producers.get(p.inputs.find((i) => !isScalar(i)) ?? '') : undefined) {
        chain.push(p);
        if (!absorbed(p)) break;
      }
      const last = chain[chain.length - 1];
      if (last && !absorbed(last) && QUANTIZES_ITS_OUTPUT.has(last.opType) && inInteger(last)) around.push(...chain);
    }
    const unit = around.map(nameOf).filter((n) => !exclude.has(n));
    for (const n of unit) exclude.add(n);
    units.push(unit);
  }
  return units;
}


