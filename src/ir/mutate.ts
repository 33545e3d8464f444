// The few safe edits passes and quantizers make, in the manner of onnxruntime's
// graph_utils. Nothing outside src/ir splices node lists, sets initializers or renames
// values by hand: these helpers keep names unique, keep nodes in topological order, see
// values captured by subgraphs, and leave graph outputs named as they were. Each says what
// it requires of the caller; the cheap preconditions are checked and throw.
import type { Graph, Node, ValueInfo } from './graph.js';
import type { Tensor } from './tensor.js';

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

/**
 * Makes every read of `from` (in this graph and in subgraphs that capture it) read `to`.
 * Requires: `to` is defined where `from` was read (same type, available no later in node
 * order). Graph outputs of this graph keep reading `from`: bypassNode renames those.
 * `inSubgraphs: false` leaves reads inside subgraph bodies alone (they keep `from`).
 */
export function replaceAllUses(graph: Graph, from: string, to: string, options: { inSubgraphs?: boolean } = {}): void {
  const visit = (g: Graph) => {
    // A subgraph that defines its own `from` shadows the outer one: stop there.
    if (g !== graph && definesName(g, from)) return;
    for (const n of g.nodes) {
      for (let i = 0; i < n.inputs.length; i++) if (n.inputs[i] === from) n.inputs[i] = to;
      if (options.inSubgraphs !== false) for (const sub of n.subgraphs()) visit(sub);
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

/** Requires: nothing reads the node's outputs any more (or the caller rewires them next). */
export function removeNode(graph: Graph, node: Node): void {
  const i = graph.nodes.indexOf(node);
  if (i >= 0) graph.nodes.splice(i, 1);
}

/**
 * Puts `replacement` where `node` was, keeping the surrounding order. Requires: the
 * replacement nodes are in order among themselves and read only values defined before
 * `node` or by each other; whoever read `node`'s outputs reads them from the replacement.
 */
export function replaceNode(graph: Graph, node: Node, replacement: Node[]): void {
  const i = graph.nodes.indexOf(node);
  if (i < 0) throw new Error(`replaceNode: ${node.describe()} is not in the graph`);
  graph.nodes.splice(i, 1, ...replacement);
}

/** Removes several nodes at once, keeping the order of the rest. Requires: as removeNode. */
export function removeNodes(graph: Graph, nodes: Iterable<Node>): void {
  const gone = new Set(nodes);
  if (gone.size) graph.nodes = graph.nodes.filter((n) => !gone.has(n));
}

export function dropValueInfo(graph: Graph, name: string): void {
  graph.valueInfo = graph.valueInfo.filter((v: ValueInfo) => v.name !== name);
}

/** Drops the value_info entries `stale` selects (values that are gone or retyped); returns how many. */
export function dropValueInfoWhere(graph: Graph, stale: (v: ValueInfo) => boolean): number {
  const before = graph.valueInfo.length;
  graph.valueInfo = graph.valueInfo.filter((v) => !stale(v));
  return before - graph.valueInfo.length;
}

/**
 * Adds nodes and restores topological order (a stable sort: nodes already in order stay
 * where they are, new ones go after what they read). Requires: their outputs are fresh
 * names (NameAllocator) and every value they read is defined in scope.
 */
export function insertNodes(graph: Graph, nodes: Node[]): void {
  for (const n of nodes) {
    if (graph.nodes.includes(n)) throw new Error(`insertNodes: ${n.describe()} is already in the graph`);
  }
  graph.nodes.push(...nodes);
  topologicalSort(graph);
}

/**
 * Makes input `index` of `node` read `name` (an index past the end appends, with empty
 * optional inputs in between). Requires: `name` is defined in the node's scope, before the
 * node in topological order, with the type the op expects at that position.
 */
export function setInput(node: Node, index: number, name: string): void {
  while (node.inputs.length < index) node.inputs.push('');
  node.inputs[index] = name;
}

/** Replaces a node's whole input list. Requires: as setInput, for each name ('' = omitted optional input). */
export function setInputs(node: Node, names: string[]): void {
  node.inputs = [...names];
}

/**
 * Makes `node` produce `to` instead of its output `from`. Requires: `to` is a fresh name;
 * the caller rewires the readers of `from` (replaceAllUses) or gives `from` a new producer.
 */
export function renameOutput(node: Node, from: string, to: string): void {
  const i = node.outputs.indexOf(from);
  if (i < 0) throw new Error(`renameOutput: ${node.describe()} does not produce '${from}'`);
  node.outputs[i] = to;
}

/** True when `name` is an input, an initializer or a node output of this graph itself. */
function definedInGraph(graph: Graph, name: string): boolean {
  return graph.initializers.has(name) || graph.inputs.some((v) => v.name === name) || graph.nodes.some((n) => n.outputs.includes(name));
}

/**
 * Adds `tensor` as an initializer under its own name, and returns the name. Refuses a
 * name this graph already defines (initializer, input or node output), as onnxruntime's
 * AddInitializer does: take fresh names from NameAllocator, or remove the old definition
 * first (a Constant node turned initializer).
 */
export function addInitializer(graph: Graph, tensor: Tensor): string {
  if (definedInGraph(graph, tensor.name)) throw new Error(`addInitializer: '${tensor.name}' is already defined in graph '${graph.name ?? ''}'`);
  graph.initializers.set(tensor.name, tensor);
  return tensor.name;
}

/**
 * Gives the existing initializer `tensor.name` new contents (or a new type). Requires:
 * every reader of the old value, in this graph and its subgraphs, wants the new one; a
 * rewrite for one reader only stores the result under a fresh name (addInitializer).
 */
export function replaceInitializer(graph: Graph, tensor: Tensor): void {
  if (!graph.initializers.has(tensor.name)) throw new Error(`replaceInitializer: no initializer '${tensor.name}'`);
  graph.initializers.set(tensor.name, tensor);
}

/** Removes an initializer. Requires: nothing reads it any more (replaceAllUses first, or it is dead). */
export function removeInitializer(graph: Graph, name: string): void {
  graph.initializers.delete(name);
}

/**
 * Declares a graph input. Requires: `info.name` is fresh in this graph, or an initializer
 * it gives a default to (IR < 4 lists every initializer as an input). Main graph only:
 * subgraph inputs are positional and fixed by the op that holds the body.
 */
export function addGraphInput(graph: Graph, info: ValueInfo): void {
  if (graph.inputs.some((v) => v.name === info.name)) throw new Error(`addGraphInput: '${info.name}' is already an input`);
  graph.inputs.push(info);
}

/** Stops listing the inputs `drop` selects; returns how many. Requires: main graph, and nothing feeds them any more (or they are initializers, which keep their value). */
export function removeGraphInputsWhere(graph: Graph, drop: (v: ValueInfo) => boolean): number {
  const before = graph.inputs.length;
  graph.inputs = graph.inputs.filter((v) => !drop(v));
  return before - graph.inputs.length;
}

/**
 * Makes values graph outputs, in the given order, skipping ones that already are: for
 * probe copies that read intermediate values (calibration, per-layer errors, folding).
 * Requires: each name is defined in the graph.
 */
export function exposeAsOutputs(graph: Graph, names: Iterable<string>): void {
  const existing = graph.outputNames();
  for (const name of names) {
    if (existing.has(name)) continue;
    graph.outputs.push({ name });
    existing.add(name);
  }
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
