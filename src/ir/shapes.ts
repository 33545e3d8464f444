// Shape inference for the common operators, static and symbolic. Seeds from graph
// inputs, initializers and existing value_info; an op it does not know gives its
// outputs no shape (never a guessed one), so a pass that needs a shape leaves the
// graph alone. Small int tensors carry their known elements (ValueShape.value), so
// Reshape/Expand targets computed by Shape -> Gather -> Concat arithmetic resolve, and
// symbolic dims are related by that arithmetic ("batch*seq", "past + seq").
// The rules live in shapes/: compute.ts, layout.ts, values.ts, symbolic.ts.
import { DataType } from './dtype.js';
import type { Dim, Graph, Node } from './graph.js';
import { elemTypeOf, shapeOf, tensorType } from './graph.js';
import { MAX_VALUE_LENGTH, type RuleContext, type ShapeMap, type ValueShape } from './shapes/context.js';
import { applyRule } from './shapes/rules.js';
import { inferValue, tensorValue } from './shapes/values.js';

export type { ShapeMap, ValueShape } from './shapes/context.js';
export { broadcast } from './shapes/compute.js';
export { nodeMacs } from './shapes/macs.js';

/** A node whose output shapes inference could not give, and why. */
export interface ShapeDiagnostic {
  node: string;
  opType: string;
  reason: string;
}

export interface ShapeInference {
  shapes: ShapeMap;
  /** Root causes only: nodes whose inputs' ranks were known but whose outputs' are not. */
  diagnostics: ShapeDiagnostic[];
}

/** Infers shapes of every value in `graph` (outer-scope values seen through `outer`). */
export function inferShapes(graph: Graph, outer?: ShapeMap): ShapeMap {
  return inferShapesWithDiagnostics(graph, outer).shapes;
}

/**
 * Shapes that follow from the graph inputs, initializers and operator rules alone. Declared
 * value_info and output shapes are left out: onnxruntime checks only the inputs, so a pass
 * that writes an inferred size into the graph as a number must not trust a declaration (a
 * TopK with a runtime k declared [N, 4] may run as [3, 8]).
 */
export function inferDerivedShapes(graph: Graph): ShapeMap {
  return inferShapesWithDiagnostics(graph, undefined, new Map(), false).shapes;
}

/**
 * A subgraph alone is inferred as part of the whole model: the enclosing graphs first
 * (their If branches with them, kept in `memo`), so it sees what they know at its node.
 * `declared` false seeds nothing from value_info or output declarations (inferDerivedShapes).
 */
export function inferShapesWithDiagnostics(graph: Graph, outer?: ShapeMap, memo = new Map<Graph, ShapeInference>(), declared = true): ShapeInference {
  const known = outer ? undefined : memo.get(graph);
  if (known) return known;
  if (!outer && graph.parent) {
    const enclosing = inferShapesWithDiagnostics(graph.parent, undefined, memo, declared);
    const reached = memo.get(graph);
    if (reached) return reached;
    outer = enclosing.shapes; // a Loop/Scan body, or a branch not taken
  }
  const shapes: ShapeMap = new Map(outer);
  // A name may be declared twice (value_info and an output without dims): what one declaration
  // leaves out the other keeps. An outer value of the same name is shadowed, not merged.
  const seen = new Map<string, ValueShape>();
  // Without declarations only the main graph's inputs keep their dims (onnxruntime checks
  // those); a Loop or Scan body's inputs are declarations it does not check.
  const trusted = declared || !graph.parent;
  for (const v of declared ? [...graph.inputs, ...graph.valueInfo, ...graph.outputs] : graph.inputs) {
    const prev = seen.get(v.name);
    const dims = (trusted ? shapeOf(v) : undefined) ?? prev?.dims;
    const elemType = elemTypeOf(v) || prev?.elemType;
    if (!dims && !elemType) continue;
    seen.set(v.name, { elemType, dims });
    shapes.set(v.name, { elemType, dims });
  }
  for (const [name, t] of graph.initializers) {
    if (!graph.inputs.some((i) => i.name === name)) shapes.set(name, { elemType: t.dataType, dims: [...t.dims], value: tensorValue(t) });
  }
  const producers = graph.producers();
  const diagnostics: ShapeDiagnostic[] = [];
  for (const node of graph.nodes) {
    const reasons: string[] = [];
    const ctx = ruleContext(node, shapes, producers, reasons, memo, declared);
    let outs: (ValueShape | undefined)[];
    try {
      outs = node.isOnnx('Constant') ? [constantShape(node)] : applyRule(node, ctx);
    } catch (e) {
      outs = [];
      reasons.push(`shape rule failed: ${(e as Error).message}`);
    }
    node.outputs.forEach((o, k) => {
      const inferred = outs[k];
      if (!o || !inferred) return;
      const merged = merge(shapes.get(o), inferred);
      if (k === 0 && !merged.value) merged.value = inferValue(ctx, merged);
      shapes.set(o, merged);
    });
    const unknown = node.outputs.some((o) => o && !shapes.get(o)?.dims);
    const inputsKnown = node.inputs.every((i) => !i || shapes.get(i)?.dims);
    // A node holding subgraphs (If) without its own reason follows from what they list.
    const follows = !reasons.length && node.subgraphs().length > 0;
    if (unknown && !follows && (reasons.length || inputsKnown)) {
      diagnostics.push({ node: node.name || node.outputs[0] || '?', opType: node.opType, reason: reasons[0] ?? 'the rule gave no rank' });
    }
  }
  const result = { shapes, diagnostics };
  memo.set(graph, result);
  return result;
}

/** Root-cause diagnostics of the graph and every subgraph in it. */
export function shapeDiagnostics(graph: Graph, outer?: ShapeMap): ShapeDiagnostic[] {
  const { shapes, diagnostics } = inferShapesWithDiagnostics(graph, outer);
  const out = [...diagnostics];
  for (const node of graph.nodes) for (const sub of node.subgraphs()) out.push(...shapeDiagnostics(sub, shapes));
  return out;
}

function ruleContext(node: Node, shapes: ShapeMap, producers: Map<string, Node>, reasons: string[], memo: Map<Graph, ShapeInference>, declared: boolean): RuleContext {
  const ins = node.inputs.map((i) => (i ? shapes.get(i) : undefined));
  const value = (i: number) => ins[i]?.value;
  return {
    node,
    ins,
    dims: (i) => ins[i]?.dims,
    value,
    numbers: (i) => {
      const v = value(i);
      return v && v.every((d): d is number => typeof d === 'number') ? v : undefined;
    },
    why: (reason) => { reasons.push(reason); return undefined; },
    source: (i) => {
      const name = node.inputs[i] ?? '';
      const p = producers.get(name);
      return p ? `'${name}' (from ${p.describe()})` : `'${name}'`;
    },
    subgraph: (g) => inferShapesWithDiagnostics(g, shapes, memo, declared).shapes,
  };
}

function constantShape(node: Node): ValueShape | undefined {
  const t = node.getTensor('value');
  if (t) return { elemType: t.dataType, dims: [...t.dims], value: tensorValue(t) };
  // value_ints / value_int / value_float(s) (opset 12+)
  const ints = node.getInts('value_ints');
  const floats = node.getFloats('value_floats');
  const list = ints ?? floats;
  if (list) return { elemType: ints ? DataType.INT64 : DataType.FLOAT, dims: [list.length], value: list.length <= MAX_VALUE_LENGTH ? list : undefined };
  const int = node.getInt('value_int');
  if (int !== undefined) return { elemType: DataType.INT64, dims: [], value: [int] };
  const float = node.getFloat('value_float');
  return float !== undefined ? { elemType: DataType.FLOAT, dims: [], value: [float] } : undefined;
}

/** Inferred over declared, dim by dim: a declared dim fills one inference left unknown. */
function merge(known: ValueShape | undefined, inferred: ValueShape): ValueShape {
  const elemType = inferred.elemType ?? known?.elemType;
  const [a, b] = [known?.dims, inferred.dims];
  let dims: Dim[] | undefined = b ?? a;
  if (a && b && a.length === b.length) dims = b.map((d, i) => d ?? a[i] ?? null);
  return { elemType, dims, value: inferred.value };
}

/** Writes inferred shapes of intermediate values back as value_info. Returns how many were added. */
export function writeValueInfo(graph: Graph, shapes: ShapeMap): number {
  const declared = new Set([...graph.inputs, ...graph.outputs, ...graph.valueInfo].map((v) => v.name));
  let added = 0;
  for (const node of graph.nodes) {
    for (const o of node.outputs) {
      const s = shapes.get(o);
      if (!o || declared.has(o) || !s?.elemType || !s.dims) continue;
      graph.valueInfo.push({ name: o, type: tensorType(s.elemType, s.dims) });
      declared.add(o);
      added++;
    }
  }
  return added;
}
