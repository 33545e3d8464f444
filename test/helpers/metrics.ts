import type { HostTensor } from '../../src/runtime/ort.js';
import { float16ToFloat32 } from '../../src/ir/float-formats.js';

/** The values of a float32 or float16 tensor as float32; undefined for other types. */
function floats(t: HostTensor): Float32Array | undefined {
  if (t.type === 'float16') return Float32Array.from(t.data as Uint16Array, float16ToFloat32);
  return t.data instanceof Float32Array ? t.data : undefined;
}

/** Cosine similarity of all float (float32 or float16) outputs taken together. */
export function outputsCosine(a: Record<string, HostTensor>, b: Record<string, HostTensor>): number {
  let dot = 0, na = 0, nb = 0;
  for (const [name, t] of Object.entries(a)) {
    const u = floats(t), v = floats(b[name]!);
    if (!u || !v) continue;
    for (let i = 0; i < u.length; i++) { dot += u[i]! * v[i]!; na += u[i]! * u[i]!; nb += v[i]! * v[i]!; }
  }
  return na === 0 && nb === 0 ? 1 : dot / Math.sqrt(na * nb);
}
