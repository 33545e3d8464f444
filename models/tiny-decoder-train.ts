// Trains the tiny GPT-2-style decoder of tiny-decoder.ts on a toy task in plain
// TypeScript: a few hundred Adam steps with hand-written backward passes for the handful
// of ops the model uses (embedding, LayerNorm, linear, causal attention, tanh-GELU). One
// sequence at a time, rows are positions: a matrix is [T, n] row-major. Seeded: the same
// options give the same weights.
import { seededRandom } from '../src/runtime/samples.js';

export interface DecoderConfig {
  vocab: number;
  dModel: number;
  heads: number;
  layers: number;
  /** Longest sequence (position embeddings, causal mask). */
  maxPositions: number;
}

export interface Param { name: string; rows: number; cols: number; data: Float32Array; grad: Float32Array; m: Float32Array; v: Float32Array }

export interface BlockParams { ln1g: Param; ln1b: Param; wqkv: Param; bqkv: Param; wo: Param; bo: Param; ln2g: Param; ln2b: Param; w1: Param; b1: Param; w2: Param; b2: Param }

export interface DecoderParams { wte: Param; wpe: Param; blocks: BlockParams[]; lnfg: Param; lnfb: Param; lmHead: Param }

type Mat = { rows: number; cols: number; data: Float32Array; grad: Float32Array };
type Tape = (() => void)[];

function param(name: string, rows: number, cols: number, init: (i: number) => number): Param {
  const n = rows * cols;
  return { name, rows, cols, data: Float32Array.from({ length: n }, (_, i) => init(i)), grad: new Float32Array(n), m: new Float32Array(n), v: new Float32Array(n) };
}

const mat = (rows: number, cols: number): Mat => ({ rows, cols, data: new Float32Array(rows * cols), grad: new Float32Array(rows * cols) });

export function initParams(c: DecoderConfig, seed: number): DecoderParams {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const d = c.dModel;
  const w = (name: string, rows: number, cols: number) => param(name, rows, cols, () => gauss() / Math.sqrt(rows));
  const zeros = (name: string, n: number) => param(name, 1, n, () => 0);
  const ones = (name: string, n: number) => param(name, 1, n, () => 1);
  return {
    wte: param('wte', c.vocab, d, () => gauss() * 0.5),
    wpe: param('wpe', c.maxPositions, d, () => gauss() * 0.5),
    blocks: Array.from({ length: c.layers }, (_, l) => ({
      ln1g: ones(`h${l}.ln_1.weight`, d), ln1b: zeros(`h${l}.ln_1.bias`, d),
      wqkv: w(`h${l}.attn.c_attn.weight`, d, 3 * d), bqkv: zeros(`h${l}.attn.c_attn.bias`, 3 * d),
      wo: w(`h${l}.attn.c_proj.weight`, d, d), bo: zeros(`h${l}.attn.c_proj.bias`, d),
      ln2g: ones(`h${l}.ln_2.weight`, d), ln2b: zeros(`h${l}.ln_2.bias`, d),
      w1: w(`h${l}.mlp.c_fc.weight`, d, 4 * d), b1: zeros(`h${l}.mlp.c_fc.bias`, 4 * d),
      w2: w(`h${l}.mlp.c_proj.weight`, 4 * d, d), b2: zeros(`h${l}.mlp.c_proj.bias`, d),
    })),
    lnfg: ones('ln_f.weight', d), lnfb: zeros('ln_f.bias', d),
    lmHead: w('lm_head.weight', d, c.vocab),
  };
}

export function allParams(p: DecoderParams): Param[] {
  return [p.wte, p.wpe, ...p.blocks.flatMap((b) => Object.values(b) as Param[]), p.lnfg, p.lnfb, p.lmHead];
}

function embed(tape: Tape, ids: number[], wte: Param, wpe: Param): Mat {
  const d = wte.cols;
  const y = mat(ids.length, d);
  ids.forEach((t, i) => { for (let j = 0; j < d; j++) y.data[i * d + j] = wte.data[t * d + j]! + wpe.data[i * d + j]!; });
  tape.push(() => ids.forEach((t, i) => { for (let j = 0; j < d; j++) { wte.grad[t * d + j]! += y.grad[i * d + j]!; wpe.grad[i * d + j]! += y.grad[i * d + j]!; } }));
  return y;
}

function linear(tape: Tape, x: Mat, w: Param, b?: Param): Mat {
  const [T, k, n] = [x.rows, w.rows, w.cols];
  const y = mat(T, n);
  for (let i = 0; i < T; i++) {
    const row = y.data.subarray(i * n, (i + 1) * n);
    if (b) row.set(b.data);
    for (let p = 0; p < k; p++) {
      const xv = x.data[i * k + p]!;
      const wr = p * n;
      for (let j = 0; j < n; j++) row[j]! += xv * w.data[wr + j]!;
    }
  }
  tape.push(() => {
    for (let i = 0; i < T; i++) {
      for (let p = 0; p < k; p++) {
        const xv = x.data[i * k + p]!;
        let gx = 0;
        const wr = p * n;
        for (let j = 0; j < n; j++) {
          const g = y.grad[i * n + j]!;
          gx += g * w.data[wr + j]!;
          w.grad[wr + j]! += xv * g;
        }
        x.grad[i * k + p]! += gx;
      }
      if (b) for (let j = 0; j < n; j++) b.grad[j]! += y.grad[i * n + j]!;
    }
  });
  return y;
}

function add(tape: Tape, a: Mat, b: Mat): Mat {
  const y = mat(a.rows, a.cols);
  for (let i = 0; i < y.data.length; i++) y.data[i] = a.data[i]! + b.data[i]!;
  tape.push(() => { for (let i = 0; i < y.data.length; i++) { a.grad[i]! += y.grad[i]!; b.grad[i]! += y.grad[i]!; } });
  return y;
}

export const LN_EPSILON = 1e-5;

function layerNorm(tape: Tape, x: Mat, g: Param, b: Param): Mat {
  const [T, d] = [x.rows, x.cols];
  const y = mat(T, d);
  const xhat = new Float32Array(T * d);
  const inv = new Float32Array(T);
  for (let i = 0; i < T; i++) {
    let mean = 0, vr = 0;
    for (let j = 0; j < d; j++) mean += x.data[i * d + j]!;
    mean /= d;
    for (let j = 0; j < d; j++) vr += (x.data[i * d + j]! - mean) ** 2;
    inv[i] = 1 / Math.sqrt(vr / d + LN_EPSILON);
    for (let j = 0; j < d; j++) {
      xhat[i * d + j] = (x.data[i * d + j]! - mean) * inv[i]!;
      y.data[i * d + j] = xhat[i * d + j]! * g.data[j]! + b.data[j]!;
    }
  }
  tape.push(() => {
    for (let i = 0; i < T; i++) {
      let m1 = 0, m2 = 0;
      for (let j = 0; j < d; j++) {
        const gy = y.grad[i * d + j]!;
        g.grad[j]! += gy * xhat[i * d + j]!;
        b.grad[j]! += gy;
        const dxh = gy * g.data[j]!;
        m1 += dxh;
        m2 += dxh * xhat[i * d + j]!;
      }
      m1 /= d; m2 /= d;
      for (let j = 0; j < d; j++) x.grad[i * d + j]! += inv[i]! * (y.grad[i * d + j]! * g.data[j]! - m1 - xhat[i * d + j]! * m2);
    }
  });
  return y;
}

/** GPT-2's gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export const GELU_C = Math.sqrt(2 / Math.PI);

function gelu(tape: Tape, x: Mat): Mat {
  const y = mat(x.rows, x.cols);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    y.data[i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + 0.044715 * v * v * v)));
  }
  tape.push(() => {
    for (let i = 0; i < x.data.length; i++) {
      const v = x.data[i]!;
      const t = Math.tanh(GELU_C * (v + 0.044715 * v * v * v));
      x.grad[i]! += y.grad[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * v * v));
    }
  });
  return y;
}

/** Causal multi-head attention over qkv [T, 3d] (q, k, v blocks; head h at columns h*dh). */
function attention(tape: Tape, qkv: Mat, heads: number): Mat {
  const T = qkv.rows, d = qkv.cols / 3, dh = d / heads, stride = 3 * d, scale = 1 / Math.sqrt(dh);
  const y = mat(T, d);
  const probs = new Float32Array(heads * T * T);
  for (let h = 0; h < heads; h++) {
    const [qo, ko, vo] = [h * dh, d + h * dh, 2 * d + h * dh];
    for (let i = 0; i < T; i++) {
      const p = probs.subarray((h * T + i) * T, (h * T + i + 1) * T);
      let max = -Infinity;
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let e = 0; e < dh; e++) s += qkv.data[i * stride + qo + e]! * qkv.data[j * stride + ko + e]!;
        p[j] = s * scale;
        max = Math.max(max, p[j]!);
      }
      let sum = 0;
      for (let j = 0; j <= i; j++) { p[j] = Math.exp(p[j]! - max); sum += p[j]!; }
      for (let j = 0; j <= i; j++) {
        p[j]! /= sum;
        for (let e = 0; e < dh; e++) y.data[i * d + h * dh + e]! += p[j]! * qkv.data[j * stride + vo + e]!;
      }
    }
  }
  tape.push(() => {
    const dp = new Float32Array(T);
    for (let h = 0; h < heads; h++) {
      const [qo, ko, vo] = [h * dh, d + h * dh, 2 * d + h * dh];
      for (let i = 0; i < T; i++) {
        const p = probs.subarray((h * T + i) * T, (h * T + i + 1) * T);
        let dot = 0;
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let e = 0; e < dh; e++) {
            const go = y.grad[i * d + h * dh + e]!;
            s += go * qkv.data[j * stride + vo + e]!;
            qkv.grad[j * stride + vo + e]! += p[j]! * go;
          }
          dp[j] = s;
          dot += p[j]! * s;
        }
        for (let j = 0; j <= i; j++) {
          const ds = p[j]! * (dp[j]! - dot) * scale;
          for (let e = 0; e < dh; e++) {
            qkv.grad[i * stride + qo + e]! += ds * qkv.data[j * stride + ko + e]!;
            qkv.grad[j * stride + ko + e]! += ds * qkv.data[i * stride + qo + e]!;
          }
        }
      }
    }
  });
  return y;
}

/** Logits [T, vocab] of one sequence; backward steps pushed on `tape`. */
export function forward(tape: Tape, p: DecoderParams, c: DecoderConfig, ids: number[]): Mat {
  let h = embed(tape, ids, p.wte, p.wpe);
  for (const b of p.blocks) {
    const a = linear(tape, attention(tape, linear(tape, layerNorm(tape, h, b.ln1g, b.ln1b), b.wqkv, b.bqkv), c.heads), b.wo, b.bo);
    h = add(tape, h, a);
    const m = linear(tape, gelu(tape, linear(tape, layerNorm(tape, h, b.ln2g, b.ln2b), b.w1, b.b1)), b.w2, b.b2);
    h = add(tape, h, m);
  }
  return linear(tape, layerNorm(tape, h, p.lnfg, p.lnfb), p.lmHead);
}

/** The toy task: counting mod vocab from a random start with a random step of 1..3. */
export function countingSequence(rand: () => number, vocab: number, length: number): number[] {
  const start = Math.floor(rand() * vocab);
  const step = 1 + Math.floor(rand() * 3);
  return Array.from({ length }, (_, i) => (start + i * step) % vocab);
}

export interface TrainResult { params: DecoderParams; /** share of next tokens right from position 2 on, on fresh sequences */ accuracy: number; finalLoss: number }

export function trainDecoder(c: DecoderConfig, o: { steps?: number; batch?: number; seed?: number; lr?: number; log?: (s: string) => void } = {}): TrainResult {
  const p = initParams(c, o.seed ?? 3);
  const params = allParams(p);
  const rand = seededRandom((o.seed ?? 3) + 1);
  const [steps, batch, lr] = [o.steps ?? 300, o.batch ?? 8, o.lr ?? 3e-3];
  let finalLoss = NaN;
  for (let step = 1; step <= steps; step++) {
    let loss = 0;
    for (let s = 0; s < batch; s++) {
      const seq = countingSequence(rand, c.vocab, c.maxPositions);
      const tape: Tape = [];
      const logits = forward(tape, p, c, seq.slice(0, -1));
      loss += crossEntropy(logits, seq.slice(1), 1 / (batch * logits.rows));
      for (let i = tape.length - 1; i >= 0; i--) tape[i]!();
    }
    adam(params, lr * Math.min(1, step / 20), step);
    finalLoss = loss / batch;
    if (step % 50 === 0) o.log?.(`step ${step}: loss ${finalLoss.toFixed(3)}`);
  }
  return { params: p, accuracy: accuracy(p, c, seededRandom(99)), finalLoss };
}

/** Mean cross-entropy of the rows of `logits` against `targets`; writes d(loss)*weight into logits.grad. */
function crossEntropy(logits: Mat, targets: number[], weight: number): number {
  const V = logits.cols;
  let loss = 0;
  targets.forEach((t, i) => {
    const row = logits.data.subarray(i * V, (i + 1) * V);
    const max = Math.max(...row);
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(row[j]! - max);
    for (let j = 0; j < V; j++) logits.grad[i * V + j] = (Math.exp(row[j]! - max) / sum - (j === t ? 1 : 0)) * weight;
    loss += Math.log(sum) + max - row[t]!;
  });
  return loss / targets.length;
}

function adam(params: Param[], lr: number, step: number): void {
  const [b1, b2] = [0.9, 0.999];
  for (const q of params) {
    for (let i = 0; i < q.data.length; i++) {
      const g = q.grad[i]!;
      q.m[i] = b1 * q.m[i]! + (1 - b1) * g;
      q.v[i] = b2 * q.v[i]! + (1 - b2) * g * g;
      q.data[i]! -= (lr * (q.m[i]! / (1 - b1 ** step))) / (Math.sqrt(q.v[i]! / (1 - b2 ** step)) + 1e-8);
      q.grad[i] = 0;
    }
  }
}

function accuracy(p: DecoderParams, c: DecoderConfig, rand: () => number): number {
  let right = 0, total = 0;
  for (let s = 0; s < 50; s++) {
    const seq = countingSequence(rand, c.vocab, c.maxPositions);
    const logits = forward([], p, c, seq.slice(0, -1));
    for (let i = 1; i < logits.rows; i++) {
      const row = logits.data.subarray(i * c.vocab, (i + 1) * c.vocab);
      right += Number(row.indexOf(Math.max(...row)) === seq[i + 1]);
      total++;
    }
  }
  return right / total;
}
