// Nodes whose inputs are all constant are computed once, now, by onnxruntime itself
// (exact, and every op it supports is covered), and their outputs become initializers.
// Shape and Size of statically shaped values fold without running anything.
// Size cap: a folded value may not take more bytes than the nodes and constants it
// frees, so folding never bloats the file: ConstantOfShape of a weight stays.
import type { Graph, Model, Node } from '../src/ir/graph.js';
import { Graph as GraphClass, Model as ModelClass } from '../src/ir/graph.js';
import { DataType } from '../src/ir/dtype.js';
import { addInitializer, exposeAsOutputs, insertNodes, removeInitializer, removeNode } from '../src/ir/mutate.js';
import { inferShapes } from '../src/ir/shapes.js';
import { Tensor } from '../src/ir/tensor.js';
import { runOnce } from '../src/runtime/ort.js';
import { encodedNodeBytes, encodedTensorBytes } from '../src/onnx/encoded-size.js';
import { fromHostTensor } from '../src/runtime/tensor-files.js';
import { PassReport, type Pass, type PassContext } from '../src/pass/pass.js';

/** Ops that must not be folded: random, or producing non-tensor values. */
const NEVER_FOLD = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli', 'Constant']);
// No slack by default: folding must never make the file larger.
const DEFAULT_SLACK_BYTES = 0;

export const foldConstants: Pass = {
  name: 'fold-constants',
  description: 'compute nodes whose inputs are all constant (and Shape of static shapes) into initializers',
  async run(graph: Graph, ctx: PassContext) {
    const report = new PassReport();
    const slack = ctx.options.foldSlackBytes ?? DEFAULT_SLACK_BYTES;
    const shapeValues = staticShapeValues(graph);
    const cone = constantCone(graph, shapeValues);
    if (cone.nodes.length === 0) return report.result();
    const frontier = frontierOf(graph, cone.nodes);
    if (frontier.length === 0) return report.result();
    let values: Map<string, Tensor>;
    try {
      values = await evaluate(ctx.model, graph, cone.nodes, frontier, shapeValues);
    } catch (err) {
      report.skip(`onnxruntime could not evaluate the constant part: ${(err as Error).message}`);
      return report.result();
    }
    const foldable = new Map<string, Tensor>();
    for (const [name, value] of values) value.name = name;
    // Folding everything at once can free what no single value frees (several Slices of
    // one weight); take that when it does not grow the file, else judge value by value.
    if (bytesAfterFoldingAll(graph, cone.nodes, values) <= slack) {
      for (const [name, value] of values) foldable.set(name, value);
    } else for (const name of frontier) {
      const value = values.get(name);
      if (!value) continue;
      value.name = name;
      const cost = encodedTensorBytes(value);
      const freed = freedBytes(graph, cone.nodes, name);
      if (cost > freed + slack) report.skip(`'${name}': folding would add ${cost - freed} bytes`);
      else foldable.set(name, value);
    }
    const consumers = graph.consumers();
    const producers = graph.producers();
    for (const node of new Set([...foldable.keys()].map((n) => producers.get(n)!))) {
      // A node with several outputs goes only when every output anyone reads is folded.
      const read = node.outputs.filter((o) => o && (consumers.has(o) || graph.outputNames().has(o)));
      if (!read.every((o) => foldable.has(o))) { report.skip(`${node.describe()}: some outputs cannot be folded`); continue; }
      removeNode(graph, node);
      for (const o of read) {
        const value = foldable.get(o)!;
        value.name = o;
        addInitializer(graph, value);
        report.count('folded');
      }
    }
    // The nodes that computed folded values are now unread; eliminate-dead-nodes removes them,
    // but do it here too so that this pass alone leaves a clean graph.
    const captured = cone.nodes.flatMap((n) => n.inputs).filter((i) => i && !graph.initializers.has(i));
    removeUnread(graph, cone.nodes);
    // An enclosing graph's weight that only the folded nodes read is unread now.
    for (const name of new Set(captured)) {
      const owner = ownerOf(graph, name);
      if (owner && capturedBytesFreed(graph, name, new Set()) > 0) removeInitializer(owner, name);
    }
    return report.result();
  },
};

/**
 * The values of those `names` that `graph` computes from constants alone, by running the
 * nodes they depend on; the graph is left as it is. For a caller that replaces such a value
 * anyway (the int8 modes, an LSTM weight an exporter reorders with Slice and Concat), where
 * folding it for its own sake could grow the file.
 */
export async function constantValues(model: Model, graph: Graph, names: string[]): Promise<Map<string, Tensor>> {
  const shapeValues = staticShapeValues(graph);
  const cone = new Set(constantCone(graph, shapeValues).nodes);
  const producers = graph.producers();
  const wanted = names.filter((n) => cone.has(producers.get(n)!));
  const needed = new Set<Node>();
  const stack = wanted.map((n) => producers.get(n));
  while (stack.length) {
    const n = stack.pop();
    if (!n || needed.has(n) || !cone.has(n)) continue;
    needed.add(n);
    for (const i of n.inputs) if (i) stack.push(producers.get(i));
  }
  if (!wanted.length) return new Map();
  const values = await evaluate(model, graph, graph.nodes.filter((n) => needed.has(n)), wanted, shapeValues);
  for (const [name, value] of values) value.name = name;
  return values;
}

/** Values of Shape/Size nodes whose input shape is fully static: known without running anything. */
function staticShapeValues(graph: Graph): Map<string, Tensor> {
  const shapes = inferShapes(graph);
  const known = new Map<string, Tensor>();
  for (const node of graph.nodes) {
    if (!node.isOnnx() || (node.opType !== 'Shape' && node.opType !== 'Size')) continue;
    const dims = shapes.get(node.inputs[0] ?? '')?.dims;
    if (!dims || dims.some((d) => typeof d !== 'number')) continue;
    const all = dims as number[];
    let values: number[];
    if (node.opType === 'Size') values = [all.reduce((a, b) => a * b, 1)];
    else {
      const rank = all.length;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
      values = all.slice(clamp(node.getInt('start', 0)), clamp(node.getInt('end', rank)));
    }
    const output = node.outputs[0]!;
    known.set(output, Tensor.fromTyped(output, DataType.INT64, node.opType === 'Size' ? [] : [values.length], BigInt64Array.from(values.map(BigInt))));
  }
  return known;
}

/** Nodes computable from constants alone, in graph order. */
function constantCone(graph: Graph, shapeValues: Map<string, Tensor>): { nodes: Node[] } {
  const constant = new Set<string>();
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (shapeValues.has(node.outputs[0] ?? '')) {
      nodes.push(node);
      constant.add(node.outputs[0]!);
      continue;
    }
    if (!node.isOnnx() || NEVER_FOLD.has(node.opType) || node.subgraphs().length || /Sequence|Optional/.test(node.opType)) continue;
    const inputs = node.inputs.filter((i) => i);
    if (inputs.length === 0) continue;
    if (!inputs.every((i) => constant.has(i) || graph.findInitializer(i))) continue;
    nodes.push(node);
    for (const o of node.outputs) if (o) constant.add(o);
  }
  return { nodes };
}

/** Cone values read by nodes outside the cone (graph outputs keep their producer). */
function frontierOf(graph: Graph, cone: Node[]): string[] {
  const inCone = new Set(cone);
  const outputs = graph.outputNames();
  const consumers = graph.consumers();
  const frontier: string[] = [];
  for (const node of cone) {
    for (const o of node.outputs) {
      if (!o || outputs.has(o)) continue;
      if ((consumers.get(o) ?? []).some((c) => !inCone.has(c))) frontier.push(o);
    }
  }
  return frontier;
}

/** Runs the cone as a model of its own and returns the frontier values. */
async function evaluate(model: Model, graph: Graph, cone: Node[], frontier: string[], shapeValues: Map<string, Tensor>): Promise<Map<string, Tensor>> {
  const values = new Map<string, Tensor>();
  const g = new GraphClass('constant-cone');
  // Shape nodes of static shapes enter as their known values; onnxruntime runs the rest.
  // The cone is in graph order, so the nodes go in already sorted.
  insertNodes(g, cone.filter((n) => !shapeValues.has(n.outputs[0] ?? '')));
  for (const node of g.nodes) {
    for (const i of node.inputs) {
      const t = i ? graph.findInitializer(i) ?? shapeValues.get(i) : undefined;
      if (t && !g.initializers.has(i)) addInitializer(g, t);
    }
  }
  const toRun = frontier.filter((name) => {
    const known = shapeValues.get(name);
    if (known) values.set(name, new Tensor(name, known.dataType, known.dims, known.data));
    return !known;
  });
  if (toRun.length === 0) return values;
  exposeAsOutputs(g, toRun);
  const m = new ModelClass(g);
  m.irVersion = Math.max(model.irVersion, 4); // initializers need not be inputs
  m.opsetImport = model.opsetImport;
  m.functions = model.functions;
  const out = await runOnce(m, {});
  for (const [name, host] of Object.entries(out)) values.set(name, fromHostTensor(name, host));
  return values;
}

/**
 * Bytes that folding `name` removes from the file: the nodes computing it that compute
 * nothing else anyone reads, and the initializers only those nodes read.
 */
function freedBytes(graph: Graph, cone: Node[], name: string): number {
  const producers = graph.producers();
  const consumers = graph.consumers();
  const ancestors = new Set<Node>();
  const stack = [producers.get(name)];
  while (stack.length) {
    const n = stack.pop();
    if (!n || ancestors.has(n) || !cone.includes(n)) continue;
    ancestors.add(n);
    for (const i of n.inputs) if (i) stack.push(producers.get(i));
  }
  const root = producers.get(name);
  const outputs = graph.outputNames();
  const exclusive = [...ancestors].filter((n) => n === root
    ? n.outputs.length === 1
    : n.outputs.every((o) => !o || (!outputs.has(o) && (consumers.get(o) ?? []).every((c) => ancestors.has(c)))));
  const exclusiveSet = new Set(exclusive);
  let bytes = 0;
  const counted = new Set<string>();
  for (const n of exclusive) {
    bytes += encodedNodeBytes(n);
    for (const i of n.inputs) {
      if (!i || counted.has(i) || outputs.has(i)) continue;
      counted.add(i);
      const t = graph.initializers.get(i);
      if (t) { if ((consumers.get(i) ?? []).every((c) => exclusiveSet.has(c))) bytes += encodedTensorBytes(t); }
      else bytes += capturedBytesFreed(graph, i, exclusiveSet);
    }
  }
  return bytes;
}

/**
 * The bytes of an enclosing graph's initializer that `graph` reads by name, when only
 * `readers` read it anywhere (so folding them frees it), else 0. A weight an exporter
 * reshapes inside a body (Silero VAD v5 reorders its LSTM gates with Slice and Concat in a
 * nested branch) is stored in the enclosing graph.
 */
function capturedBytesFreed(graph: Graph, name: string, readers: Set<Node>): number {
  const owner = ownerOf(graph, name);
  // A weight that is also a graph input may be overridden by the caller: it stays.
  if (!owner || owner.outputNames().has(name) || owner.inputs.some((i) => i.name === name)) return 0;
  for (const g of [owner, ...owner.descendants()]) {
    if (g !== owner && g.outputNames().has(name)) return 0;
    for (const n of g.nodes) if (!readers.has(n) && n.inputs.includes(name)) return 0;
  }
  return encodedTensorBytes(owner.initializers.get(name)!);
}

/** The enclosing graph whose initializer `name` is, as `graph` reads it. */
function ownerOf(graph: Graph, name: string): Graph | undefined {
  let owner = graph.parent;
  while (owner && !owner.initializers.has(name)) owner = owner.parent;
  return owner;
}

/** Net bytes added if every frontier value becomes an initializer (negative = saved). */
function bytesAfterFoldingAll(graph: Graph, cone: Node[], values: Map<string, Tensor>): number {
  let added = 0;
  for (const v of values.values()) added += encodedTensorBytes(v);
  // Nodes still needed: walk back from graph outputs and from nodes outside the cone,
  // stopping at folded values.
  const producers = graph.producers();
  const inCone = new Set(cone);
  const live = new Set<Node>();
  const stack: string[] = [...graph.outputNames()];
  for (const n of graph.nodes) if (!inCone.has(n)) {
    live.add(n);
    stack.push(...n.inputs);
    for (const sub of n.subgraphs()) stack.push(...sub.capturedNames());
  }
  while (stack.length) {
    const name = stack.pop()!;
    if (!name || values.has(name)) continue;
    const p = producers.get(name);
    if (!p || live.has(p)) continue;
    live.add(p);
    stack.push(...p.inputs);
  }
  const stillRead = new Set<string>();
  for (const n of live) for (const i of n.inputs) stillRead.add(i);
  for (const o of graph.outputNames()) stillRead.add(o);
  let removed = 0;
  const counted = new Set<string>();
  const dead = new Set(cone.filter((n) => !live.has(n)));
  for (const n of dead) {
    removed += encodedNodeBytes(n);
    for (const i of n.inputs) {
      if (!i || counted.has(i) || stillRead.has(i)) continue;
      counted.add(i);
      const t = graph.initializers.get(i);
      removed += t ? encodedTensorBytes(t) : capturedBytesFreed(graph, i, dead);
    }
  }
  return added - removed;
}

function removeUnread(graph: Graph, cone: Node[]): void {
  let changed = true;
  while (changed) {
    changed = false;
    const consumers = graph.consumers();
    const outputs = graph.outputNames();
    for (const node of cone) {
      if (!graph.nodes.includes(node)) continue;
      if (node.outputs.every((o) => !o || (!consumers.has(o) && !outputs.has(o)))) {
        removeNode(graph, node);
        changed = true;
      }
    }
  }
}
