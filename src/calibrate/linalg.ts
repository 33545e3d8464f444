// Small dense linear algebra on row-major Float64Array matrices: what least-squares and
// optimal-brain-surgeon updates need (a few hundred to a few thousand columns).

/** A + damp * mean(diag A) * I, in place: the ridge that keeps X^T X invertible. */
export function dampen(a: Float64Array, n: number, damp: number): void {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += a[i * n + i]!;
  const add = damp * (trace / n || 1);
  for (let i = 0; i < n; i++) a[i * n + i]! += add;
}

/** In place: the lower Cholesky factor L (A = L L^T); upper triangle zeroed. False when A is not positive definite. */
export function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= a[j * n + k]! ** 2;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) a[j * n + k] = 0;
  }
  return true;
}

/**
 * The Cholesky factor of a symmetric positive semi-definite matrix after a ridge: tries
 * `damp`, then ten and a hundred times more (a copy is factored; `a` is left as is).
 */
export function dampedCholesky(a: Float64Array, n: number, damp: number): Float64Array {
  for (const factor of [1, 10, 100, 1000]) {
    const l = a.slice();
    dampen(l, n, damp * factor);
    if (cholesky(l, n)) return l;
  }
  throw new Error(`matrix of ${n} columns is not positive definite even with a ridge`);
}

/** Solves L L^T X = B in place for B of n rows and `cols` columns (row-major; whole rows at a time, so reads stay contiguous). */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array, cols: number): void {
  for (let i = 0; i < n; i++) {
    const bi = b.subarray(i * cols, (i + 1) * cols);
    for (let k = 0; k < i; k++) {
      const f = l[i * n + k]!;
      if (f === 0) continue;
      const bk = k * cols;
      for (let c = 0; c < cols; c++) bi[c]! -= f * b[bk + c]!;
    }
    const d = l[i * n + i]!;
    for (let c = 0; c < cols; c++) bi[c]! /= d;
  }
  for (let i = n - 1; i >= 0; i--) {
    const bi = b.subarray(i * cols, (i + 1) * cols);
    for (let k = i + 1; k < n; k++) {
      const f = l[k * n + i]!;
      if (f === 0) continue;
      const bk = k * cols;
      for (let c = 0; c < cols; c++) bi[c]! -= f * b[bk + c]!;
    }
    const d = l[i * n + i]!;
    for (let c = 0; c < cols; c++) bi[c]! /= d;
  }
}

/**
 * A^-1 from the lower Cholesky factor of A, as L^-T L^-1: L^-1 is triangular and the product
 * symmetric, so this takes a third of the work of solving against the identity.
 */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  // Row i of L^-1 by forward substitution; it is zero right of the diagonal.
  const li = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let k = 0; k < i; k++) {
      const f = l[ri + k]!;
      if (f === 0) continue;
      const rk = k * n;
      for (let c = 0; c <= k; c++) li[ri + c]! -= f * li[rk + c]!;
    }
    const d = l[ri + i]!;
    for (let c = 0; c < i; c++) li[ri + c]! /= d;
    li[ri + i] = 1 / d;
  }
  // (A^-1)[i][j] = sum over k >= max(i, j) of li[k][i] li[k][j]: the upper half, then mirrored.
  const inv = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i <= k; i++) {
      const f = li[rk + i]!;
      if (f === 0) continue;
      const ri = i * n;
      for (let j = i; j <= k; j++) inv[ri + j]! += f * li[rk + j]!;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) inv[i * n + j] = inv[j * n + i]!;
  return inv;
}

/**
 * The lower Cholesky factor of (H + damp)^-1: what optimal-brain-surgeon updates (SparseGPT's
 * pruning, GPTQ's rounding) read, column by column, to spread each change's error. H must
 * have no zero on its diagonal (callers set dead inputs' to 1).
 */
export function inverseHessianFactor(h: Float64Array, n: number, damp: number): Float64Array {
  const inv = inverseFromCholesky(dampedCholesky(h, n, damp), n);
  if (!cholesky(inv, n)) throw new Error('inverse Hessian is not positive definite');
  return inv;
}

/** Rows and columns `keep` of an n x n matrix. */
export function submatrix(a: Float64Array, n: number, rows: number[], cols: number[]): Float64Array {
  const out = new Float64Array(rows.length * cols.length);
  rows.forEach((r, i) => cols.forEach((c, j) => { out[i * cols.length + j] = a[r * n + c]!; }));
  return out;
}
