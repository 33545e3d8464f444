// Data-aware masks and the updates that make a pruned layer reproduce its original output
// on the calibration rows. All math here is on one layer's weights as K rows of `n`
// reduction elements and on the statistics of its input (E[x], E[x x^T]).
import { linalg } from '../calibrate/index.js';

export type Selection = { kind: 'unstructured'; sparsity: number } | { kind: 'nm'; n: number; m: number };

/** Ridge relative to the mean diagonal of the Hessian, as SparseGPT and GPTQ (src/quantize/techniques/gptq.ts) dampen it. */
export const DAMP = 0.01;
/** Columns whose mask SparseGPT chooses together (adaptive mask selection). */
const MASK_BLOCK = 128;

/**
 * Unstructured masks are chosen block by block over all rows of a layer together (a layer
 * with 9 weights a row can still be cut to 50%): the quota carries the rounding so the
 * layer as a whole lands on its share.
 */
export class Quota {
  private seen = 0;
  private zeroed = 0;
  constructor(readonly share: number) {}
  take(size: number): number {
    this.seen += size;
    const count = Math.round(this.share * this.seen) - this.zeroed;
    this.zeroed += count;
    return count;
  }
}

/** Marks in `zero` (k x n) the lowest-scoring weights of columns [a, b): M - N per row and group, or the quota's count over all rows. */
function chooseZeros(score: (r: number, j: number) => number, k: number, n: number, a: number, b: number, s: Selection, quota: Quota | undefined, zero: Uint8Array): void {
  if (s.kind === 'nm') {
    const idx = Array.from({ length: b - a }, (_, t) => a + t);
    for (let r = 0; r < k; r++) {
      idx.sort((x, y) => score(r, x) - score(r, y) || x - y);
      for (let t = 0; t < s.m - s.n; t++) zero[r * n + idx[t]!] = 1;
    }
    return;
  }
  const cells: number[] = [];
  for (let r = 0; r < k; r++) for (let j = a; j < b; j++) cells.push(r * n + j);
  const scores = new Float64Array(k * n);
  for (const c of cells) scores[c] = score(Math.floor(c / n), c % n);
  cells.sort((x, y) => scores[x]! - scores[y]! || x - y);
  const count = quota!.take(cells.length);
  for (let t = 0; t < count && t < cells.length; t++) zero[cells[t]!] = 1;
}

/** Blocks of columns [0, prunable) the masks are chosen in. */
function blocks(prunable: number, s: Selection): [number, number][] {
  const size = s.kind === 'nm' ? s.m : MASK_BLOCK;
  const out: [number, number][] = [];
  for (let a = 0; a + (s.kind === 'nm' ? size : 1) <= prunable; a += size) out.push([a, Math.min(prunable, a + size)]);
  return out;
}

/** Wanda: zeroes the weights with the smallest |w_rj| * ||x_j||; returns the mask (k x n). */
export function wandaRows(rows: Float64Array, k: number, n: number, norms: Float64Array, s: Selection, quota?: Quota): Uint8Array {
  const zero = new Uint8Array(k * n);
  for (const [a, b] of blocks(n, s)) chooseZeros((r, j) => Math.abs(rows[r * n + j]!) * norms[j]!, k, n, a, b, s, quota, zero);
  for (let i = 0; i < rows.length; i++) if (zero[i]) rows[i] = 0;
  return zero;
}

/**
 * SparseGPT: with U the upper Cholesky factor of (H + ridge)^-1, walk the columns in
 * order; at each block boundary choose the block's zeros by w^2 / U_jj^2 (the OBS
 * saliency), and spread each zeroed weight's error over the later columns by U's row.
 * Columns from `prunable` on (a bias appended as a constant input) are never zeroed but
 * absorb error like the rest. `rows` (k x n, row-major) is updated in place.
 */
export function sparseGptRows(rows: Float64Array, k: number, n: number, h: Float64Array, prunable: number, s: Selection, quota?: Quota): void {
  const hm = h.slice();
  // Dead inputs (always zero on the data) carry no information: their weights do nothing.
  for (let j = 0; j < n; j++) if (hm[j * n + j] === 0) { hm[j * n + j] = 1; for (let r = 0; r < k; r++) rows[r * n + j] = 0; }
  const inv = linalg.inverseHessianFactor(hm, n, DAMP);
  // inv holds the lower factor L2 of H^-1; U = L2^T, so row i of U is column i of L2.
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) u[i * n + j] = inv[j * n + i]!;
  const ranges = blocks(prunable, s);
  const zero = new Uint8Array(k * n);
  let next = 0;
  for (let i = 0; i < n; i++) {
    if (next < ranges.length && ranges[next]![0] === i) {
      const [a, b] = ranges[next++]!;
      chooseZeros((r, j) => rows[r * n + j]! ** 2 / u[j * n + j]! ** 2, k, n, a, b, s, quota, zero);
    }
    const ui = u.subarray(i * n, (i + 1) * n);
    for (let r = 0; r < k; r++) {
      if (!zero[r * n + i]) continue;
      const w = rows.subarray(r * n, (r + 1) * n);
      const err = w[i]! / ui[i]!;
      for (let j = i + 1; j < n; j++) w[j]! -= err * ui[j]!;
      w[i] = 0;
    }
  }
}

/** Input statistics of one group of a layer: means, and E[x x^T] when it was collected. */
export interface InputMoments { n: number; mean: Float64Array; meanSquares: Float64Array; second?: Float64Array }

/**
 * E||D x + d||^2 over the rows for a weight change D (K x n) and bias change d: exact with
 * E[x x^T]; without it, features taken as uncorrelated (variances plus the mean term).
 */
export function meanSquaredChange(d: Float64Array, k: number, bias: Float64Array | undefined, m: InputMoments): number {
  const n = m.n;
  let total = 0;
  for (let r = 0; r < k; r++) {
    const row = d.subarray(r * n, (r + 1) * n);
    let meanPart = bias ? bias[r]! : 0;
    for (let j = 0; j < n; j++) meanPart += row[j]! * m.mean[j]!;
    if (m.second) {
      let q = 0;
      for (let i = 0; i < n; i++) {
        if (row[i] === 0) continue;
        let s = 0;
        for (let j = 0; j < n; j++) s += m.second[i * n + j]! * row[j]!;
        q += row[i]! * s;
      }
      // E||Dx + d||^2 = D E[xx^T] D^T + 2 d D E[x] + d^2 = q + (mean part)^2 - (D E[x])^2.
      const dMean = meanPart - (bias ? bias[r]! : 0);
      total += q + meanPart * meanPart - dMean * dMean;
    } else {
      let v = 0;
      for (let j = 0; j < n; j++) v += row[j]! * row[j]! * Math.max(0, m.meanSquares[j]! - m.mean[j]! ** 2);
      total += v + meanPart * meanPart;
    }
  }
  return total;
}
