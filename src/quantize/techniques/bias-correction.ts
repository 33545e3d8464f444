// Bias correction (Nagel et al. 2019; Finkelstein et al. 2019): rounding the weights moves
// each output channel's mean by E[(W_q - W) x] = (W_q - W) E[x]; subtracting that from
// the bias removes the systematic part of the error, which ReLU and pooling would
// otherwise pass on layer after layer. E[x] comes from the calibration activations.
import type { Graph, Node } from '../../ir/graph.js';
import { addInitializer, NameAllocator, replaceInitializer, setInput } from '../../ir/mutate.js';
import { Tensor } from '../../ir/tensor.js';
import { biasOf } from '../../prune/weights.js';

/** Per-row shift (W_q - W) mean for rows k x n, W_q = q * scale[r]. */
export function meanShift(rows: Float64Array, q: Int8Array, k: number, n: number, scales: ArrayLike<number>, mean: Float64Array, out: Float64Array, offset = 0): void {
  for (let r = 0; r < k; r++) {
    const s = scales[r]!;
    let d = 0;
    for (let j = 0; j < n; j++) d += (q[r * n + j]! * s - rows[r * n + j]!) * mean[j]!;
    out[offset + r]! += d;
  }
}

/**
 * Subtracts `shift` (one value per output) from the layer's bias: its own constant bias,
 * a new zero-initialized one for a Conv or Gemm that has none, or the constant of the Add
 * after a MatMul. Returns false when the layer has no bias that only it reads.
 */
export function subtractFromBias(graph: Graph, node: Node, shift: Float64Array, names: NameAllocator): boolean {
  const outputs = shift.length;
  const existing = biasOf(graph, node, outputs);
  if (existing) {
    const t = graph.findInitializer(existing)!;
    const b = t.toFloat32();
    for (let c = 0; c < outputs; c++) b[c]! -= shift[c]!;
    replaceInitializer(graph, Tensor.fromFloat32(existing, t.dims, b));
    return true;
  }
  const canAdd = node.opType === 'Conv' ? !node.inputs[2] : node.opType === 'Gemm' && !node.inputs[2] && node.getFloat('beta', 1) === 1 && node.getFloat('alpha', 1) === 1;
  if (!canAdd) return false;
  const name = addInitializer(graph, Tensor.fromFloat32(names.next(`${node.name || node.outputs[0]}_bias`), [outputs], Float32Array.from(shift, (v) => -v)));
  setInput(node, 2, name);
  return true;
}
