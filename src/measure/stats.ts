// Order statistics and a seeded bootstrap for confidence intervals of medians and ratios.
import { seededRandom } from '../runtime/samples.js';

export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function sortedCopy(values: number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

export function median(values: number[]): number {
  return quantile(sortedCopy(values), 0.5);
}

export interface Summary { mean: number; p50: number; p90: number; p99: number; sd: number; ci95: [number, number] }

/** Mean, percentiles, spread and a bootstrap interval of the median of one set of samples (latencies). */
export function sampleSummary(values: number[], seed = 1): Summary {
  const s = sortedCopy(values);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean, p50: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99), sd, ci95: bootstrap(values, (x) => median(x), seed) };
}

/** 95% bootstrap interval of a statistic (1000 resamples, seeded: the same data gives the same interval). */
export function bootstrap(values: number[], stat: (v: number[]) => number, seed = 1, resamples = 1000): [number, number] {
  const rand = seededRandom(seed);
  const stats: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const pick = Array.from({ length: values.length }, () => values[Math.floor(rand() * values.length)]!);
    stats.push(stat(pick));
  }
  const s = sortedCopy(stats);
  return [quantile(s, 0.025), quantile(s, 0.975)];
}

/** Interval of median(b) / median(a) by resampling both. */
export function ratioInterval(a: number[], b: number[], seed = 1, resamples = 1000): [number, number] {
  const rand = seededRandom(seed);
  const pick = (v: number[]) => median(Array.from({ length: v.length }, () => v[Math.floor(rand() * v.length)]!));
  const ratios: number[] = [];
  for (let r = 0; r < resamples; r++) ratios.push(pick(b) / pick(a));
  const s = sortedCopy(ratios);
  return [quantile(s, 0.025), quantile(s, 0.975)];
}

/**
 * How many back-to-back runs one timing figure holds so that it spans `spanMs`, judged by
 * the fastest of the `last` warm-up runs (the first runs are several times slower);
 * `minRunMs` floors that estimate (a coarse clock's step), `max` caps the count.
 */
export function runsPerFigure(warmMs: number[], o: { spanMs: number; minRunMs: number; max: number; last: number }): number {
  return Math.min(o.max, Math.max(1, Math.ceil(o.spanMs / Math.max(o.minRunMs, Math.min(...warmMs.slice(-o.last))))));
}

/** A slow model runs at most this many times its own need (so at a 2 ms span its figures last at most ~16 ms). */
const MAX_REPEAT_SPREAD = 8;

/**
 * One batch size for every model of a comparison: a mean over 100 runs and one over 50 weigh
 * the slow tail differently, which biased ratios of sub-millisecond models by up to 4%. The
 * fastest model's need sets it (its figures span the asked time), unless that is over
 * MAX_REPEAT_SPREAD times the slowest model's own need: then the cap sets it, and the fastest
 * model's figures are shorter. Models 8x apart are told apart without it, and
 * a 1.6 ms model beside a 12 us one would otherwise take 89 runs per figure (7 s, not 0.3).
 */
export function sharedRepeat(needs: number[], spread = MAX_REPEAT_SPREAD): number {
  return Math.max(1, Math.min(Math.max(...needs), spread * Math.min(...needs)));
}
