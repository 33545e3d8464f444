import type { HostTensor } from '../../src/runtime/ort.js';

/** Cosine similarity of all float outputs taken together. */
export function outputsCosine(a: Record<string, HostTensor>, b: Record<string, HostTensor>): number {
  let dot = 0, na = 0, nb = 0;
  for (const [name, t] of Object.entries(a)) {
    const u = t.data as Float32Array;
    const v = b[name]!.data as Float32Array;
    if (!(u instanceof Float32Array) || !(v instanceof Float32Array)) continue;
    for (let i = 0; i < u.length; i++) { dot += u[i]! * v[i]!; na += u[i]! * u[i]!; nb += v[i]! * v[i]!; }
  }
  return na === 0 && nb === 0 ? 1 : dot / Math.sqrt(na * nb);
}
