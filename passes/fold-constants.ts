// Nodes whose inputs are all constant are computed once, now, by onnxruntime itself
// (exact, and every op it supports is covered), and their outputs become initializers.
// Shape and Size of statically shaped values fold without running anything.
// Size cap: a folded value may not take more bytes than the nodes and constants it
// frees, so folding never bloats the file: ConstantOfShape of a weight stays.
import type { Graph, Node } from '../src/ir/graph.js';
import { addInitializer, removeInitializer, removeNode } from '../src/ir/mutate.js';
import type { Tensor } from '../src/ir/tensor.js';
import { constantCone, evaluate, staticShapeValues } from '../src/ir/constant-values.js';
import { encodedNodeBytes, encodedTensorBytes } from '../src/onnx/encoded-size.js';
import { PassReport, type Pass, type PassContext } from '../src/pass/pass.js';

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
