// Values a graph computes from constants alone: which nodes those are (the constant cone),
// Shape/Size of static shapes known without running anything, and the rest computed by
// onnxruntime itself (exact, and every op it supports is covered). fold-constants turns them
// into initializers; the int8 modes read recurrent weights an exporter computes this way.
import type { Graph, Model, Node } from './graph.js';
import { Graph as GraphClass, Model as ModelClass } from './graph.js';
import { DataType } from './dtype.js';
import { addInitializer, exposeAsOutputs, insertNodes } from './mutate.js';
import { inferShapes, type ShapeMap } from './shapes.js';
import { Tensor } from './tensor.js';
import { runOnce } from '../runtime/ort.js';
import { fromHostTensor } from '../runtime/tensor-files.js';

/** Ops that must not be folded: random, or producing non-tensor values. */
const NEVER_FOLD = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli', 'Constant']);

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
  const wanted = names.filter((n) => { const p = producers.get(n); return !!p && cone.has(p); });
  if (!wanted.length) return new Map();
  const needed = new Set<Node>();
  const stack = wanted.map((n) => producers.get(n));
  while (stack.length) {
    const n = stack.pop();
    if (!n || needed.has(n) || !cone.has(n)) continue;
    needed.add(n);
    for (const i of n.inputs) if (i) stack.push(producers.get(i));
  }
  const values = await evaluate(model, graph, graph.nodes.filter((n) => needed.has(n)), wanted, shapeValues);
  for (const [name, value] of values) value.name = name;
  return values;
}

/** The values `graph` computes from constants alone (what constantValues can compute), found without running anything. */
export function constantOutputs(graph: Graph, shapes: ShapeMap = inferShapes(graph)): Set<string> {
  return new Set(constantCone(graph, staticShapeValues(graph, shapes)).nodes.flatMap((n) => n.outputs).filter((o) => o));
}

/** Values of Shape/Size nodes whose input shape is fully static: known without running anything. */
export function staticShapeValues(graph: Graph, shapes: ShapeMap = inferShapes(graph)): Map<string, Tensor> {
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
export function constantCone(graph: Graph, shapeValues: Map<string, Tensor>): { nodes: Node[] } {
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

/** Runs the cone as a model of its own and returns the frontier values. */
export async function evaluate(model: Model, graph: Graph, cone: Node[], frontier: string[], shapeValues: Map<string, Tensor>): Promise<Map<string, Tensor>> {
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
