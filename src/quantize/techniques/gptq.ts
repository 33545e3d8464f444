// GPTQ (Frantar et al. 2022) rounding of one layer: with U the upper Cholesky factor of
// (H + ridge)^-1, H = E[x x^T] of the layer's input rows, quantize the columns in order
// and spread each column's rounding error over the columns not yet quantized by U's row
// (the optimal-brain-surgeon update), so the layer's output on the calibration rows moves
// as little as the grid allows. The scales are fixed beforehand (from the float weights),
// so the result drops into the ordinary symmetric int8 QDQ layout.
import { linalg } from '../../calibrate/index.js';
import { DAMP } from '../../prune/reconstruct.js';

/**
 * Rounds `rows` (k x n, row-major; a copy is updated) with H (n x n) onto the grid
 * q * scale[r], q in [qmin, qmax]. Writes the integers into `out` (k x n).
 */
export function gptqRound(rows: Float64Array, k: number, n: number, h: Float64Array, scales: ArrayLike<number>, qmin: number, qmax: number, out: Int8Array): void {
  const w = rows.slice();
  const hm = h.slice();
  // A column that is always zero on the data has no say in the output: plain rounding.
  for (let j = 0; j < n; j++) if (hm[j * n + j] === 0) hm[j * n + j] = 1;
  const inv = linalg.inverseHessianFactor(hm, n, DAMP);
  // inv holds the lower factor of H^-1; U = its transpose, so U[i][j] = inv[j][i].
  for (let r = 0; r < k; r++) {
    const s = scales[r]!;
    const row = w.subarray(r * n, (r + 1) * n);
    for (let i = 0; i < n; i++) {
      const q = s > 0 ? Math.min(qmax, Math.max(qmin, Math.round(row[i]! / s))) : 0;
      out[r * n + i] = q;
      const err = (row[i]! - q * s) / inv[i * n + i]!;
      for (let j = i + 1; j < n; j++) row[j]! -= err * inv[j * n + i]!;
    }
  }
}

/** Plain round-to-nearest onto the same grid, for comparison and for layers without H. */
export function roundToNearest(rows: Float64Array, k: number, n: number, scales: ArrayLike<number>, qmin: number, qmax: number, out: Int8Array): void {
  for (let r = 0; r < k; r++) {
    const s = scales[r]!;
    for (let i = 0; i < n; i++) out[r * n + i] = s > 0 ? Math.min(qmax, Math.max(qmin, Math.round(rows[r * n + i]! / s))) : 0;
  }
}
