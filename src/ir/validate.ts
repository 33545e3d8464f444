// Structural invariants of a graph, checked after loading and between passes:
// every input is defined somewhere in scope, every value has one producer, nodes are in
// topological order (between passes; loading accepts any order, which optimize sorts),
// and constant tensors hold as many bytes as their dims declare.
import type { Graph, Model } from './graph.js';
import { rawByteLength, dataTypeName } from './dtype.js';
import type { Tensor } from './tensor.js';

/** The largest element count onnxpress accepts in one tensor (2^40): past it a file is lying. */
export const MAX_ELEMENTS = 2 ** 40;

export interface ValidateOptions {
  /** Require every node to come after the producers of what it reads (default true). */
  topologicalOrder?: boolean;
}

export function modelProblems(model: Model, options: ValidateOptions = {}): string[] {
  const problems: string[] = [];
  checkGraph(model.graph, new Set(), problems, 'graph', options.topologicalOrder !== false);
  for (const t of model.tensors()) {
    const p = tensorProblem(t);
    if (p) problems.push(p);
  }
  return problems;
}

function checkGraph(g: Graph, outer: Set<string>, problems: string[], where: string, ordered: boolean): void {
  const defined = new Set<string>(outer);
  for (const i of g.inputs) defined.add(i.name);
  for (const name of g.initializers.keys()) defined.add(name);
  const produced = new Set<string>();
  for (const n of g.nodes) {
    if (!n.opType) problems.push(`${where}: node ${n.describe()} has no op_type`);
    for (const o of n.outputs) {
      if (!o) continue;
      if (produced.has(o)) problems.push(`${where}: value '${o}' is produced by more than one node`);
      produced.add(o);
      defined.add(o);
    }
  }
  // Values available to a node: the outer scope, inputs, initializers, and earlier nodes' outputs.
  const available = new Set<string>([...outer, ...g.inputs.map((i) => i.name), ...g.initializers.keys()]);
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      if (i && !defined.has(i)) problems.push(`${where}: node ${n.describe()} reads '${i}', which nothing defines`);
      else if (ordered && i && !available.has(i)) problems.push(`${where}: node ${n.describe()} reads '${i}' before the node producing it (not in topological order)`);
    }
    for (const sub of n.subgraphs()) {
      if (ordered) for (const c of sub.capturedNames()) {
        if (defined.has(c) && !available.has(c)) problems.push(`${where}: node ${n.describe()}'s body reads '${c}' before the node producing it (not in topological order)`);
      }
      checkGraph(sub, defined, problems, `${where} > ${n.describe()} body`, ordered);
    }
    for (const o of n.outputs) if (o) available.add(o);
  }
  for (const o of g.outputs) {
    if (!defined.has(o.name)) problems.push(`${where}: output '${o.name}' is never produced`);
  }
}

export function tensorProblem(t: Tensor): string | undefined {
  let count = 1;
  for (const d of t.dims) {
    if (!Number.isInteger(d) || d < 0) return `tensor ${t.describe()} has an invalid dimension ${d}`;
    count *= d;
  }
  if (count > MAX_ELEMENTS) return `tensor ${t.describe()} declares ${count} elements, more than onnxpress accepts (2^40)`;
  if (t.external) return undefined; // checked against the file when it is read
  const d = t.data;
  if (d.kind === 'raw') {
    const want = rawByteLength(t.dataType, count);
    if (want !== undefined && d.bytes.byteLength !== want) {
      return `tensor ${t.describe()} declares ${want} bytes of ${dataTypeName(t.dataType)} but holds ${d.bytes.byteLength}`;
    }
  } else if (d.kind === 'float_data' || d.kind === 'double_data' || d.kind === 'int64_data' || d.kind === 'uint64_data' || d.kind === 'string_data') {
    const perElement = t.dataType === 14 || t.dataType === 15 ? 2 : 1; // complex: two reals each
    if (d.values.length !== count * perElement) return `tensor ${t.describe()} declares ${count} elements but holds ${d.values.length}`;
  }
  return undefined;
}
