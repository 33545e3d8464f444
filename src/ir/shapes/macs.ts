// Multiply-accumulate counts of the weight layers, from inferred shapes.
import type { Dim, Node } from '../graph.js';
import type { ShapeMap } from './context.js';

/** Symbolic dims (a batch, a sequence length) count as 1: MACs are per sample. */
function perSample(dims: Dim[] | undefined): Dim[] | undefined {
  return dims?.map((d) => (typeof d === 'string' ? 1 : d));
}

function product(dims: Dim[]): number | null {
  let p = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return null;
    p *= d;
  }
  return p;
}

/** Multiply-accumulate count of one node per sample, when shapes allow; undefined otherwise. */
export function nodeMacs(node: Node, allShapes: ShapeMap): number | undefined {
  const dimsOf = (name: string | undefined) => perSample(allShapes.get(name ?? '')?.dims);
  const out = dimsOf(node.outputs[0]);
  const outCount = out ? product(out) : null;
  switch (node.opType) {
    case 'Conv': case 'ConvInteger': case 'QLinearConv': {
      const w = dimsOf(node.inputs[node.opType === 'QLinearConv' ? 3 : 1]);
      const perOutput = w ? product(w.slice(1)) : null;
      return outCount !== null && perOutput !== null ? outCount * perOutput : undefined;
    }
    case 'ConvTranspose': {
      const [x, w] = [dimsOf(node.inputs[0]), dimsOf(node.inputs[1])];
      const inCount = x ? product(x) : null;
      const perInput = w ? product(w.slice(1)) : null;
      return inCount !== null && perInput !== null ? inCount * perInput : undefined;
    }
    case 'MatMul': case 'MatMulInteger': case 'Gemm': {
      const a = dimsOf(node.inputs[0]);
      if (!a || outCount === null) return undefined;
      const k = node.opType === 'Gemm' && node.getInt('transA', 0) ? a[0] : a[a.length - 1];
      return typeof k === 'number' ? outCount * k : undefined;
    }
    default: return undefined;
  }
}
