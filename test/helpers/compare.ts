// Numeric comparison of two runs' outputs.
import type { HostTensor } from '../../src/runtime/ort.js';

/**
 * The largest error between two output maps, relative to each output's scale:
 * max |a - b| / max(1, max |a|). Integer and bool outputs must match exactly (error 0 or Infinity).
 */
export function maxRelativeError(reference: Record<string, HostTensor>, candidate: Record<string, HostTensor>): number {
  let worst = 0;
  for (const [name, ref] of Object.entries(reference)) {
    const cand = candidate[name];
    if (!cand || cand.dims.join() !== ref.dims.join()) return Infinity;
    if (Array.isArray(ref.data) || Array.isArray(cand.data)) {
      if (JSON.stringify(ref.data) !== JSON.stringify(cand.data)) return Infinity;
      continue;
    }
    const a = ref.data as unknown as ArrayLike<number | bigint>;
    const b = cand.data as unknown as ArrayLike<number | bigint>;
    if (a.length !== b.length) return Infinity;
    let scale = 1;
    for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(Number(a[i])));
    for (let i = 0; i < a.length; i++) {
      const x = Number(a[i]), y = Number(b[i]);
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      if (x === y) continue;
      const err = Math.abs(x - y) / scale;
      if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
    }
  }
  return worst;
}
