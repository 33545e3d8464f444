// Activation ranges for static quantization, from running the float model on real samples.
// minmax: the observed range. percentile: the range holding that share of |x|. entropy:
// the clipping threshold whose 8-bit histogram loses the least information (KL divergence),
// as TensorRT and onnxruntime calibrate. mse: the threshold whose 8-bit rounding plus
// clipping error is least (the MSE calibrator of NVIDIA's pytorch-quantization).
import type { Model } from '../ir/graph.js';
import { exposeAsOutputs } from '../ir/mutate.js';
import { cloneModel } from '../onnx/clone.js';
import { openSession } from '../runtime/ort.js';
import type { Sample } from '../runtime/samples.js';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy', 'mse'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

export interface CalibrationOptions {
  method: CalibrationMethod;
  /** For 'percentile': the share of |x| kept, in percent (default 99.999). */
  percentile?: number;
  /** Histogram bins for percentile/entropy (default 2048). */
  bins?: number;
  /** mse: activations quantized symmetrically (a non-negative tensor then gets half the steps). */
  symmetric?: boolean;
}

export interface Range { min: number; max: number }

const BATCH_OUTPUTS = 400; // tensors fetched per session, to bound memory on large graphs
const DEFAULT_BINS = 2048;

/** What one tensor showed over the samples: its range and, for the methods that clip, a histogram of |x|. */
interface TensorStats {
  min: number;
  max: number;
  histogram?: { counts: Float64Array; width: number; bins: number };
  /** Ranges derived before, by method options: entropy's search is not free, and mixed precision asks again per attempt. */
  derived?: Map<string, Range>;
}

/**
 * Statistics measured on one sample list, by tensor name, for repeated quantizations of clones
 * of one model (mixed precision trying node sets, 'auto' trying methods): every method reads
 * the same range and histogram, so a tensor is measured once, not once per attempt or method.
 * Scoped to its caller: a cache outlives neither the model nor the samples it was made for.
 */
export class CalibrationCache {
  readonly stats = new Map<string, TensorStats>();
  /** Tensors the samples showed are not float32: no range, and no second look. */
  readonly notFloat = new Set<string>();
  constructor(readonly samples: Sample[]) {}
}

/** Ranges of the named float tensors over the samples. */
export async function calibrate(model: Model, tensors: string[], samples: Sample[], options: CalibrationOptions, cache?: CalibrationCache): Promise<Map<string, Range>> {
  const bins = options.method === 'minmax' ? undefined : options.bins ?? DEFAULT_BINS;
  const own = cache?.samples === samples ? cache : new CalibrationCache(samples);
  const { stats, notFloat } = own;
  const missing = tensors.filter((t) => { const s = stats.get(t); return !notFloat.has(t) && (!s || (bins !== undefined && s.histogram?.bins !== bins)); });
  for (let i = 0; i < missing.length; i += BATCH_OUTPUTS) await measure(model, missing.slice(i, i + BATCH_OUTPUTS), samples, bins, own);
  const key = JSON.stringify([options.method, options.percentile, options.symmetric]);
  const range = (s: TensorStats) => {
    const known = s.derived?.get(key);
    if (known) return known;
    const r = rangeOf(s, options);
    (s.derived ??= new Map()).set(key, r);
    return r;
  };
  return new Map(tensors.filter((t) => stats.has(t)).map((t) => [t, range(stats.get(t)!)]));
}

/** Fills `stats` for `tensors`: a pass for the ranges not known yet, and one for the histograms asked for. */
async function measure(model: Model, tensors: string[], samples: Sample[], bins: number | undefined, { stats, notFloat }: CalibrationCache): Promise<void> {
  const probe = cloneModel(model);
  exposeAsOutputs(probe.graph, tensors);
  const session = await openSession(probe);
  try {
    const run = async (visit: (name: string, data: Float32Array) => void) => {
      for (const sample of samples) {
        const out = await session.run(sample, tensors);
        for (const name of tensors) {
          const t = out[name];
          if (t && t.type === 'float32') visit(name, t.data as Float32Array);
        }
      }
    };
    if (tensors.some((t) => !stats.has(t))) {
      const ranges = new Map<string, TensorStats>();
      await run((name, data) => {
        const r = ranges.get(name) ?? { min: Infinity, max: -Infinity };
        for (let i = 0; i < data.length; i++) {
          const v = data[i]!;
          if (v < r.min) r.min = v;
          if (v > r.max) r.max = v;
        }
        ranges.set(name, r);
      });
      for (const [name, r] of ranges) if (!stats.has(name)) stats.set(name, r);
      // A tensor that is not float32 gets no range; remembered, so it is not run for again.
      for (const name of tensors) if (!stats.has(name)) notFloat.add(name);
    }
    if (bins === undefined) return;
    // Second pass: histograms of |x| over [0, max |x|].
    const hists = new Map<string, { counts: Float64Array; width: number; bins: number }>();
    for (const name of tensors) {
      const r = stats.get(name);
      if (r) hists.set(name, { counts: new Float64Array(bins), width: Math.max(Math.abs(r.min), Math.abs(r.max)) / bins || 1, bins });
    }
    await run((name, data) => {
      const h = hists.get(name)!;
      const inv = 1 / h.width;
      for (let i = 0; i < data.length; i++) {
        const b = Math.min(bins - 1, Math.floor(Math.abs(data[i]!) * inv));
        h.counts[b]!++;
      }
    });
    for (const [name, h] of hists) Object.assign(stats.get(name)!, { histogram: h, derived: undefined });
  } finally {
    await session.release();
  }
}

/** A method's range from a tensor's statistics. */
function rangeOf(s: TensorStats, options: CalibrationOptions): Range {
  if (options.method === 'minmax' || !s.histogram) return { min: s.min, max: s.max };
  const h = s.histogram;
  const nonNegative = s.min >= 0;
  const threshold = options.method === 'percentile'
    ? percentileThreshold(h.counts, h.width, options.percentile ?? 99.999)
    : options.method === 'mse'
    // 8-bit steps over [0, T] for a non-negative tensor, over [-T, T] otherwise (symmetric, as the |x| histogram sees it).
    ? mseThreshold(h.counts, h.width, nonNegative && !options.symmetric ? 255 : 127.5)
    // KL alone clips mass that sits at the edge of the range (an image background of -1);
    // never clip more than 0.1% of |x|.
    : Math.max(entropyThreshold(h.counts, h.width, 128), percentileThreshold(h.counts, h.width, 99.9));
  return nonNegative ? { min: 0, max: Math.min(threshold, s.max) } : { min: Math.max(-threshold, s.min), max: Math.min(threshold, s.max) };
}

export function percentileThreshold(counts: Float64Array, width: number, percentile: number): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const want = (total * percentile) / 100;
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i]!;
    if (acc >= want) return (i + 1) * width;
  }
  return counts.length * width;
}

/**
 * The threshold T minimizing the expected squared error of 8-bit values clipped at T: each
 * value below T rounds to a step of T / `steps` (error step^2 / 12), each one above loses
 * |x| - T. Bins at their centres; prefix sums make every candidate O(1).
 */
export function mseThreshold(histogram: Float64Array, width: number, steps: number): number {
  // The first bin holds the exact zeros (most of a ReLU output), represented exactly whatever
  // the threshold; left out, as entropy does, so they do not pull the threshold down.
  const counts = histogram.slice();
  counts[0] = 0;
  const n = counts.length;
  // Suffix sums of c, c x and c x^2 over the bins above each candidate.
  let aboveC = 0, aboveX = 0, aboveXX = 0;
  for (let k = 0; k < n; k++) { const x = (k + 0.5) * width; aboveC += counts[k]!; aboveX += counts[k]! * x; aboveXX += counts[k]! * x * x; }
  let below = 0;
  let best = n, bestError = Infinity;
  for (let i = 0; i < n; i++) {
    const x = (i + 0.5) * width;
    below += counts[i]!;
    aboveC -= counts[i]!; aboveX -= counts[i]! * x; aboveXX -= counts[i]! * x * x;
    const t = (i + 1) * width;
    const step = t / steps;
    const error = (below * step * step) / 12 + aboveXX - 2 * t * aboveX + t * t * aboveC;
    if (error < bestError) { bestError = error; best = i + 1; }
  }
  return best * width;
}

/**
 * The threshold T minimizing KL(P || Q), where P is the histogram clipped at T (outliers
 * folded into the last bin) and Q is P quantized to `levels` bins and expanded back.
 */
export function entropyThreshold(histogram: Float64Array, width: number, levels: number): number {
  // Exact zeros (most of a ReLU output) are represented exactly whatever the threshold:
  // leave them out, or they dominate the divergence and push the threshold down.
  const counts = histogram.slice();
  counts[0] = 0;
  const n = counts.length;
  let best = n;
  let bestKl = Infinity;
  const start = Math.min(n, levels + 1);
  const step = Math.max(1, Math.floor((n - start) / 256));
  for (let i = start; i <= n; i += step) {
    const p = counts.slice(0, i);
    let outliers = 0;
    for (let k = i; k < n; k++) outliers += counts[k]!;
    p[i - 1]! += outliers;
    const q = new Float64Array(i);
    const per = i / levels;
    for (let j = 0; j < levels; j++) {
      const lo = Math.floor(j * per);
      const hi = j === levels - 1 ? i : Math.floor((j + 1) * per);
      let sum = 0;
      let nonZero = 0;
      for (let k = lo; k < hi; k++) { sum += counts[k]!; if (counts[k]! > 0) nonZero++; }
      for (let k = lo; k < hi; k++) if (counts[k]! > 0) q[k] = sum / nonZero;
    }
    const kl = klDivergence(p, q);
    if (kl < bestKl) { bestKl = kl; best = i; }
  }
  return best * width;
}

function klDivergence(p: Float64Array, q: Float64Array): number {
  let ps = 0, qs = 0;
  for (let i = 0; i < p.length; i++) { ps += p[i]!; qs += q[i]!; }
  if (ps === 0 || qs === 0) return Infinity;
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / ps;
    if (a === 0) continue;
    const b = q[i]! / qs;
    kl += b === 0 ? a * 20 : a * Math.log(a / b); // a missing bin costs a large fixed penalty
  }
  return kl;
}
