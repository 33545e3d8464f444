// Where int8-static puts QuantizeLinear/DequantizeLinear pairs. The aim is latency as well as
// size: onnxruntime's CPU provider fuses a QDQ group into an integer kernel only for some ops
// (QLinearConv, QLinearMatMul/MatMulIntegerToFloat, QGemm, QLinearAdd/Mul/Concat/AveragePool/
// GlobalAveragePool/LeakyRelu/Sigmoid), and drops the pairs around data-movement ops whose
// input and output share one scale (Reshape, Transpose, Squeeze, Unsqueeze, Gather, MaxPool,
// Resize). Anything else runs in float on dequantized values, so a pair around it only costs
// time and error. The plan therefore:
// - quantizes the activation inputs of Conv, MatMul and Gemm (the ops that pay for it);
// - runs the other integer ops in integer only when all their activations arrive quantized
//   anyway, and never when their output is a graph output (score maps stay float);
// - gives data-movement ops the scale of their input, so their pairs fold away;
// - absorbs Relu and Clip(0, c) into the producer's output quantization: quantizing the
//   producer's output with the activation's range (zero point at 0) saturates exactly as
//   the activation clamps, so the activation node is removed;
// - keeps numerically fragile ops (Softmax, normalization internals) in float.
import type { Graph, Node } from '../ir/graph.js';
import type { ShapeMap } from '../ir/shapes.js';
import { DataType } from '../ir/dtype.js';
import type { LeftInFloat } from './options.js';

/** Ops with an integer kernel that need their weight-or-activation inputs quantized, and those positions. */
const ANCHORS: Record<string, number[]> = { Conv: [0], MatMul: [0, 1], Gemm: [0, 1] };
/** Ops with an integer kernel worth running only when their inputs are quantized already. */
const INTEGER_OPS: Record<string, number[] | 'all'> = {
  Add: 'all', Mul: 'all', Concat: 'all', AveragePool: [0], GlobalAveragePool: [0], LeakyRelu: [0], Sigmoid: [0],
};
/** Ops that move data without changing it: the output shares the input's scale. */
const SHARED_SCALE = new Set(['Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Gather', 'MaxPool', 'Resize']);
/** Ops whose float results quantization hurts most; they stay in float. */
export const FRAGILE_OPS = new Set(['Softmax', 'LogSoftmax', 'LayerNormalization', 'ReduceMean', 'Sub', 'Pow', 'Sqrt', 'Div', 'Reciprocal']);

export interface PlannedTensor {
  /** The name consumers read: after the change, the DequantizeLinear output. */
  name: string;
  /** The float tensor fed to QuantizeLinear. */
  source: string;
  /** Calibrated tensor whose range sets the scale; or `shareWith`: reuse that planned tensor's scale. */
  rangeOf?: string;
  shareWith?: string;
  /** A graph input: readers are rewired to a new DequantizeLinear output instead. */
  graphInput?: boolean;
}

export interface QdqPlan {
  /** Planned tensors in graph order (a shared one after the one it shares with). */
  tensors: Map<string, PlannedTensor>;
  /** Nodes that run in integer (weighted ops also get int8 weights). */
  integer: Set<Node>;
  /** Relu/Clip nodes replaced by the quantization of their producer's output. */
  absorbed: Node[];
}

export interface PlanOptions {
  shapes: ShapeMap;
  /** Whether a node may be quantized (op type and node filters); false leaves it in float. */
  allowed: (node: Node) => boolean;
  /** Absorbing clamps needs a zero point at the clamp's low end: asymmetric activations. */
  absorbActivations: boolean;
  opset: number;
}

export function planQdq(graph: Graph, o: PlanOptions, left: LeftInFloat[]): QdqPlan {
  const tensors = new Map<string, PlannedTensor>();
  const integer = new Set<Node>();
  const absorbed = new Set<Node>();
  const consumers = graph.consumers();
  const graphOutputs = graph.outputNames();
  const graphInputs = new Set(graph.inputs.map((v) => v.name));
  const isFloat = (name: string) => o.shapes.get(name)?.elemType === DataType.FLOAT;
  const isActivation = (name: string) => !!name && !graph.findInitializer(name) && isFloat(name);
  const nameOf = (n: Node) => n.name || n.outputs[0] || '?';

  const planInput = (name: string) => {
    if (tensors.has(name)) return;
    tensors.set(name, { name, source: name, rangeOf: name, graphInput: graphInputs.has(name) || undefined });
  };
  // The producer's output, or the output of the Relu/Clip it feeds alone, absorbed.
  const planOutput = (t: string) => {
    if (tensors.has(t) || !isFloat(t)) return;
    const readers = consumers.get(t) ?? [];
    const act = readers.length === 1 && !graphOutputs.has(t) ? readers[0]! : undefined;
    if (act && o.absorbActivations && o.allowed(act) && clampsAtZero(graph, act) && act.outputs[0]) {
      absorbed.add(act);
      tensors.set(act.outputs[0], { name: act.outputs[0], source: t, rangeOf: act.outputs[0] });
      return;
    }
    tensors.set(t, { name: t, source: t, rangeOf: t });
  };
  const feedsInteger = (t: string) => !graphOutputs.has(t) && (consumers.get(t) ?? []).every((c) =>
    c.opType in ANCHORS || c.opType in INTEGER_OPS || SHARED_SCALE.has(c.opType) || clampsAtZero(graph, c));

  for (const node of graph.nodes) {
    if (!node.isOnnx() || absorbed.has(node)) continue;
    const op = node.opType;
    const known = op in ANCHORS || op in INTEGER_OPS || SHARED_SCALE.has(op);
    if (known && !o.allowed(node)) continue;
    if (FRAGILE_OPS.has(op)) { left.push({ node: nameOf(node), opType: op, reason: 'numerically fragile: kept in float' }); continue; }
    const out = node.outputs[0] ?? '';
    if (op in ANCHORS) {
      const acts = ANCHORS[op]!.map((i) => node.inputs[i] ?? '').filter(isActivation);
      const weighted = !!graph.findInitializer(node.inputs[1] ?? '');
      if (!acts.length && !weighted) continue;
      acts.forEach(planInput);
      integer.add(node);
      // QLinearConv needs its output quantized; MatMul and Gemm have float-output kernels.
      if (op === 'Conv' || feedsInteger(out)) planOutput(out);
    } else if (op in INTEGER_OPS) {
      const positions = INTEGER_OPS[op]!;
      const acts = node.inputs.filter((name, i) => (positions === 'all' || positions.includes(i)) && isActivation(name));
      if (!acts.length || !acts.every((a) => tensors.has(a))) continue;
      if (graphOutputs.has(out) || !isFloat(out)) { left.push({ node: nameOf(node), opType: op, reason: 'produces a graph output: kept in float' }); continue; }
      integer.add(node);
      planOutput(out);
    } else if (SHARED_SCALE.has(op)) {
      const input = node.inputs[0] ?? '';
      if (op === 'MaxPool' && (o.opset < 12 || node.outputs.length > 1)) continue;
      if (!tensors.has(input) || !isFloat(out) || tensors.has(out)) continue;
      integer.add(node);
      tensors.set(out, { name: out, source: out, shareWith: input });
    }
  }
  return { tensors, integer, absorbed: [...absorbed] };
}

/** Relu, or Clip with a constant minimum of exactly 0 (and a constant or absent maximum). */
function clampsAtZero(graph: Graph, node: Node): boolean {
  if (!node.isOnnx()) return false;
  if (node.opType === 'Relu') return true;
  if (node.opType !== 'Clip') return false;
  const constant = (i: number): number | undefined => {
    const name = node.inputs[i];
    if (!name) return undefined;
    const t = graph.findInitializer(name);
    return t && t.dataType === DataType.FLOAT && t.dims.reduce((a, b) => a * b, 1) === 1 ? t.toFloat32()[0] : Number.NaN;
  };
  const min = node.inputs.length > 1 ? constant(1) : node.getFloat('min');
  const max = node.inputs.length > 2 ? constant(2) : node.getFloat('max');
  return min === 0 && !Number.isNaN(max);
}
