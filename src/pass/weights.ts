// Small helpers fusions use to read and rewrite float weights safely.
import type { Graph } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { NameAllocator, addInitializer } from '../ir/mutate.js';
import { Tensor } from '../ir/tensor.js';

/** Float32 values of a FLOAT constant, or undefined when it is not one. */
export function floatValues(t: Tensor | undefined): Float32Array | undefined {
  return t && t.dataType === DataType.FLOAT ? t.toFloat32() : undefined;
}

/**
 * Stores new values for a constant under a fresh name (the old initializer may have
 * other readers), returning the new name.
 */
export function addFloatInitializer(graph: Graph, base: string, dims: number[], values: Float32Array): string {
  const name = new NameAllocator(graph).next(base);
  return addInitializer(graph, Tensor.fromFloat32(name, dims, values));
}

/** Per-channel values of a constant that broadcasts as [C] along axis 1 of a rank-`rank` tensor: [C,1,1], [1,C,1,1], [C] for rank 2. */
export function perChannel(t: Tensor | undefined, channels: number, rank: number): Float32Array | undefined {
  const v = floatValues(t);
  if (!v || !t) return undefined;
  if (v.length === 1) return new Float32Array(channels).fill(v[0]!);
  if (v.length !== channels) return undefined;
  // Dims must place C at axis 1 of the rank-`rank` result after right-aligned broadcasting.
  const dims = t.dims;
  const cAxisFromRight = rank - 1 - 1;
  const idx = dims.length - 1 - cAxisFromRight;
  if (idx < 0 || dims[idx] !== channels) return undefined;
  return dims.every((d, i) => i === idx || d === 1) ? v : undefined;
}
