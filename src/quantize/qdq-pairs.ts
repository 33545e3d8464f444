// The QuantizeLinear -> DequantizeLinear pairs of a quantized model with what a probe needs
// to compare a pair's output with its float input: the units (an absorbed Mul/Div scales
// the DQ output) and the representable range (clipping, an absorbed Relu/Clip included,
// stays the same whatever the bit width; rounding is what more bits repair).
import type { Graph, Node } from '../ir/graph.js';
import { qRange, quantizedTypeOf } from './quant-math.js';

export interface QdqPair {
  /** QuantizeLinear's float input, and DequantizeLinear's output. */
  x: string;
  y: string;
  /** The planned tensor readers see (the input itself for a graph input, or an outer value a branch reads). */
  tensor: string;
  /** y's units over x's (an absorbed Mul/Div), and the range y can represent. */
  factor: number;
  lo: number;
  hi: number;
}

/** The graphs int8-static puts pairs in: the main graph and the branches of its If nodes (quantize/subgraphs.ts). */
export function quantizedGraphs(graph: Graph): Graph[] {
  return [graph, ...graph.nodes.filter((n) => n.isOnnx('If')).flatMap((n) => n.subgraphs())];
}

/** Every QuantizeLinear -> DequantizeLinear pair with scalar parameters in `graph` itself (not its subgraphs). */
export function qdqPairs(graph: Graph): QdqPair[] {
  const producers = graph.producers();
  const pairs: QdqPair[] = [];
  for (const dq of graph.nodes) {
    if (dq.opType !== 'DequantizeLinear' || !dq.outputs[0]) continue;
    const q = producers.get(dq.inputs[0] ?? '');
    if (q?.opType !== 'QuantizeLinear' || !q.inputs[0]) continue;
    const [qs, ds] = [scalar(graph, q.inputs[1]), scalar(graph, dq.inputs[1])];
    if (!qs || !ds) continue;
    // An absorbed Mul/Div makes DQ's scale differ from Q's: x is compared in the DQ's units.
    const [qmin, qmax] = typeRange(graph, q);
    const zp = scalar(graph, q.inputs[2]) ?? 0;
    pairs.push({ x: q.inputs[0], y: dq.outputs[0], tensor: producers.has(q.inputs[0]) ? dq.outputs[0] : q.inputs[0], factor: ds / qs, lo: (qmin - zp) * ds, hi: (qmax - zp) * ds });
  }
  return pairs;
}

function scalar(graph: Graph, name: string | undefined): number | undefined {
  const t = name ? graph.findInitializer(name) : undefined;
  return t && t.elementCount === 1 ? t.toFloat32()[0] : undefined;
}

/** The integer range of a QuantizeLinear's output, from its zero point's type (uint8 without one). */
function typeRange(graph: Graph, q: Node): [number, number] {
  const type = graph.findInitializer(q.inputs[2] ?? '')?.dataType;
  return qRange((type !== undefined && quantizedTypeOf(type)) || 'uint8');
}
