// The few safe edits passes make. Passes never splice node lists or rename values by
// hand: these helpers keep names unique, see values captured by subgraphs, and leave
// graph outputs named as they were.
import type { Graph, Node, ValueInfo } from './graph.js';

/** Every value and node name used in the graph, its subgraphs and its enclosing graphs. */
export function usedNames(graph: Graph): Set<string> {
  let root = graph;
  while (root.parent) root = root.parent;
  const names = new Set<string>();
  const visit = (g: Graph) => {
    for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) names.add(v.name);
    for (const k of g.initializers.keys()) names.add(k);
    for (const n of g.nodes) {
      if (n.name) names.add(n.name);
      for (const o of n.outputs) names.add(o);
      for (const i of n.inputs) names.add(i);
      for (const sub of n.subgraphs()) visit(sub);
    }
  };
  visit(root);
  return names;
}

/** Hands out names not yet used anywhere in the model, deterministic for a given graph. */
export class NameAllocator {
  private readonly used: Set<string>;
  constructor(graph: Graph) {
    this.used = usedNames(graph);
  }
  next(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

/** Makes every read of `from` (in this graph and in subgraphs that capture it) read `to`. */
export function replaceAllUses(graph: Graph, from: string, to: string): void {
  const visit = (g: Graph) => {
    // A subgraph that defines its own `from` shadows the outer one: stop there.
    if (g !== graph && definesName(g, from)) return;
    for (const n of g.nodes) {
      for (let i = 0; i < n.inputs.length; i++) if (n.inputs[i] === from) n.inputs[i] = to;
      for (const sub of n.subgraphs()) visit(sub);
    }
    if (g !== graph) for (const o of g.outputs) if (o.name === from) o.name = to;
  };
  visit(graph);
}

function definesName(g: Graph, name: string): boolean {
  return g.inputs.some((v) => v.name === name) || g.initializers.has(name) || g.nodes.some((n) => n.outputs.includes(name));
}

/**
 * Removes `node`, routing readers of its output `output` to `replacement`. When the
 * output is a graph output, the replacement's producer takes the output name instead,
 * so the model's interface keeps its names. Returns false when that is not possible
 * (the replacement is a graph input or initializer, or itself a graph output).
 */
export function bypassNode(graph: Graph, node: Node, replacement: string, outputIndex = 0): boolean {
  const output = node.outputs[outputIndex]!;
  if (graph.outputNames().has(output)) {
    const producer = graph.producers().get(replacement);
    if (!producer || graph.outputNames().has(replacement)) return false;
    if ((graph.consumers().get(replacement) ?? []).some((c) => c !== node)) return false;
    removeNode(graph, node);
    producer.outputs[producer.outputs.indexOf(replacement)] = output;
    replaceAllUses(graph, replacement, output);
    dropValueInfo(graph, replacement);
    return true;
  }
  removeNode(graph, node);
  replaceAllUses(graph, output, replacement);
  dropValueInfo(graph, output);
  return true;
}

export function removeNode(graph: Graph, node: Node): void {
  const i = graph.nodes.indexOf(node);
  if (i >= 0) graph.nodes.splice(i, 1);
}

/** Puts `replacement` where `node` was, keeping the surrounding order. */
export function replaceNode(graph: Graph, node: Node, replacement: Node[]): void {
  const i = graph.nodes.indexOf(node);
  if (i < 0) throw new Error(`replaceNode: ${node.describe()} is not in the graph`);
  graph.nodes.splice(i, 1, ...replacement);
}

export function removeNodes(graph: Graph, nodes: Iterable<Node>): void {
  const gone = new Set(nodes);
  if (gone.size) graph.nodes = graph.nodes.filter((n) => !gone.has(n));
}

export function dropValueInfo(graph: Graph, name: string): void {
  graph.valueInfo = graph.valueInfo.filter((v: ValueInfo) => v.name !== name);
}

/**
 * Sorts nodes topologically (stable: keeps the given order where it is already valid).
 * Values from outer scopes, inputs and initializers count as available.
 */
export function topologicalSort(graph: Graph): void {
  const producers = graph.producers();
  const placed = new Set<Node>();
  const visiting = new Set<Node>();
  const order: Node[] = [];
  const visit = (n: Node) => {
    if (placed.has(n) || visiting.has(n)) return;
    visiting.add(n);
    const deps = [...n.inputs];
    for (const sub of n.subgraphs()) deps.push(...sub.capturedNames());
    for (const i of deps) {
      const p = producers.get(i);
      if (p && p !== n) visit(p);
    }
    visiting.delete(n);
    placed.add(n);
    order.push(n);
  };
  for (const n of graph.nodes) visit(n);
  graph.nodes = order;
}
