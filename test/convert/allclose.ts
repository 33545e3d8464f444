// numpy's allclose over two runs' outputs: |a - b| <= atol + rtol * |b| elementwise,
// NaN matching NaN; integer and bool outputs must match exactly. Returns the first
// offending output, or undefined when they agree.
import type { HostTensor } from '../../src/runtime/ort.js';

export function allcloseMismatch(expected: Record<string, HostTensor>, actual: Record<string, HostTensor>, atol = 1e-5, rtol = 1e-4): string | undefined {
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name];
    if (!a) return `${name}: missing`;
    if (a.dims.join() !== e.dims.join()) return `${name}: dims ${a.dims} instead of ${e.dims}`;
    if (Array.isArray(e.data) || Array.isArray(a.data)) {
      if (JSON.stringify(e.data) !== JSON.stringify(a.data)) return `${name}: strings differ`;
      continue;
    }
    const x = e.data as unknown as ArrayLike<number | bigint>;
    const y = a.data as unknown as ArrayLike<number | bigint>;
    const exact = e.type !== 'float32' && e.type !== 'float64' && e.type !== 'float16';
    for (let i = 0; i < x.length; i++) {
      const p = Number(x[i]), q = Number(y[i]);
      if (p === q || (Number.isNaN(p) && Number.isNaN(q))) continue;
      if (exact || !(Math.abs(p - q) <= atol + rtol * Math.abs(p))) return `${name}[${i}]: ${q} instead of ${p}`;
    }
  }
  return undefined;
}
