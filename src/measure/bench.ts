// Latency and size of one or more models, measured side by side. With several models the
// runs interleave in rounds (A B A B ...) so that machine drift hits all of them alike;
// each round is a tinybench run, and each figure a mean of the same number of back-to-back
// runs for every model, lasting at least MIN_FIGURE_MS (a single run of a tiny model is mostly
// scheduler noise). Ratios to the first model come with a bootstrap interval and are flagged
// noisy when that interval contains 1: the models cannot be told apart.
import { readFileSync, statSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants as zlib } from 'node:zlib';
import { Bench } from 'tinybench';
import type { Model } from '../ir/graph.js';
import { serializeModel } from '../onnx/save.js';
import { openSession, type Session } from '../runtime/ort.js';
import { openWebSession } from '../runtime/ort-web.js';
import { generateSamples, type Sample } from '../runtime/samples.js';
import { Progress } from './progress.js';
import { median, ratioInterval, runsPerFigure, sampleSummary, sharedRepeat, type Summary } from './stats.js';

/** A model to time; `size`, when the caller already measured it, saves serializing and compressing it again. */
export interface BenchSource { label: string; model: string | Model; size?: ReturnType<typeof sizeOf> }

export interface BenchOptions {
  /** Intra-op threads (default 1). */
  threads?: number;
  /** Timed runs per model (default 50). */
  runs?: number;
  /** Or: keep timing until this many milliseconds per model have passed (runs is then the cap). */
  timeMs?: number;
  /** Warm-up runs per model (default 5). */
  warmup?: number;
  backend?: 'node' | 'wasm';
  /** onnxruntime graph optimization for the timed sessions (default 'all', as deployed). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Inputs to time on (cycled); default one seeded random sample. */
  samples?: Sample[];
  dimOverrides?: Record<string, number>;
  shapeOverrides?: Record<string, number[]>;
  quiet?: boolean;
}

export interface ModelBench {
  file: string;
  bytes: number;
  gzipBytes: number;
  brotliBytes: number;
  initMs: number;
  latencyMs: Summary;
  /** RSS growth while the session was created and run (approximate: process-wide). */
  peakRssBytes: number;
  samplesMs: number[];
}

export interface BenchRatio {
  file: string;
  /** Median latency over the first model's. */
  ratio: number;
  ci95: [number, number];
  /** The interval contains 1: this run cannot say which model is faster. */
  noisy: boolean;
}

export interface BenchReport {
  backend: 'node' | 'wasm';
  threads: number;
  /** Timing figures per model; percentiles and intervals are over these. */
  runs: number;
  /** Back-to-back runs averaged into each figure, the same for every model. */
  runsPerFigure: number;
  models: ModelBench[];
  ratios: BenchRatio[];
}

const ROUND_RUNS = 5;

/**
 * Each figure spans at least this long: a run of a sub-millisecond model is one scheduler
 * hiccup away from 10x, so such a figure is the mean of enough back-to-back runs (a 40 us MLP's
 * five single runs once read 0.8 ms against 0.04 the run before, and flipped compress's pick).
 */
const MIN_FIGURE_MS = 2;
const MAX_REPEAT = 500;

/** A model's bytes: the file read, or the in-memory model serialized. */
export function bytesOf(m: string | Uint8Array | Model): Uint8Array {
  return typeof m === 'string' ? readFileSync(m) : m instanceof Uint8Array ? m : serializeModel(m);
}

export function sizeOf(m: string | Model): { bytes: number; gzipBytes: number; brotliBytes: number } {
  const raw = bytesOf(m);
  const external = typeof m === 'string' ? externalBytes(m) : 0;
  return {
    bytes: raw.byteLength + external,
    // gzip's own default level and brotli 6: on a pruned 20 MB model levels 9 took 6-8 s each
    // for files 0.3-0.7% smaller, and compress measures every candidate.
    gzipBytes: gzipSync(raw, { level: 6 }).byteLength + external,
    brotliBytes: brotliCompressSync(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 6, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.byteLength } }).byteLength + external,
  };
}

function externalBytes(file: string): number {
  try {
    return statSync(`${file}.data`).size;
  } catch {
    return 0;
  }
}

export async function benchModels(sources: BenchSource[], options: BenchOptions = {}): Promise<BenchReport> {
  const backend = options.backend ?? 'node';
  const threads = backend === 'wasm' ? 1 : options.threads ?? 1;
  const runs = options.timeMs ? options.runs ?? 100_000 : options.runs ?? 50;
  const sessions: { session: Session; initMs: number; rssBefore: number }[] = [];
  for (const s of sources) {
    const rssBefore = process.memoryUsage().rss;
    const t = performance.now();
    const session = backend === 'wasm' ? await openWebSession(s.model) : await openSession(s.model, { threads, optimization: options.optimization ?? 'all' });
    sessions.push({ session, initMs: performance.now() - t, rssBefore });
  }
  const feeds = options.samples?.length ? options.samples : generateSamples(sessions[0]!.session.inputs, 1, 1, { dimOverrides: options.dimOverrides, shapeOverrides: options.shapeOverrides });
  const samples: number[][] = sources.map(() => []);
  const peaks = sources.map(() => 0);
  let repeat = 1;
  try {
    const needs: number[] = [];
    for (const s of sessions) {
      const warm: number[] = [];
      // Two runs past the asked warm-up size the figures: a first run is several times slower.
      for (let w = 0; w < (options.warmup ?? 5) + 2; w++) {
        const t = performance.now();
        await s.session.run(feeds[w % feeds.length]!);
        warm.push(performance.now() - t);
      }
      needs.push(runsPerFigure(warm, { spanMs: MIN_FIGURE_MS, minRunMs: 1e-3, max: MAX_REPEAT, last: 2 }));
    }
    repeat = sharedRepeat(needs);
    const progress = new Progress('bench', runs, options.quiet);
    let k = 0;
    const deadline = options.timeMs ? performance.now() + options.timeMs * sources.length : Infinity;
    // At least three rounds, so that even a short run interleaves the models.
    const roundRuns = Math.max(1, Math.min(ROUND_RUNS, Math.floor(runs / 3)));
    for (let done = 0; done < runs && performance.now() < deadline; done += roundRuns) {
      const n = Math.min(roundRuns, runs - done);
      for (const [i, s] of sessions.entries()) {
        const bench = new Bench({ iterations: n, time: 0, warmupIterations: 0, warmupTime: 0, retainSamples: true });
        bench.add(sources[i]!.label, async () => { for (let r = 0; r < repeat; r++) await s.session.run(feeds[k++ % feeds.length]!); });
        await bench.run();
        const result = bench.tasks[0]!.result as unknown as { latency?: { samples?: number[] } };
        samples[i]!.push(...(result.latency?.samples ?? []).map((ms) => ms / repeat));
        peaks[i] = Math.max(peaks[i]!, process.memoryUsage().rss - s.rssBefore);
      }
      progress.tick(Math.min(runs, done + n));
    }
    progress.done();
  } finally {
    for (const s of sessions) await s.session.release();
  }
  const models = sources.map((s, i): ModelBench => ({
    file: s.label,
    ...(s.size ?? sizeOf(s.model)),
    initMs: sessions[i]!.initMs,
    latencyMs: sampleSummary(samples[i]!, i + 1),
    peakRssBytes: Math.max(0, peaks[i]!),
    samplesMs: samples[i]!,
  }));
  const ratios = models.slice(1).map((m, i): BenchRatio => ({ file: m.file, ...compareLatency(models[0]!.samplesMs, m.samplesMs, i + 7) }));
  return { backend, threads, runs: Math.min(...samples.map((x) => x.length)), runsPerFigure: repeat, models, ratios };
}

/**
 * How `other` compares with `base`: the ratio of medians and its 95% interval. Noisy means
 * the interval contains 1, not that it is wide: 0.43-0.55 is wide yet surely faster, and
 * 0.99-1.01 is narrow yet cannot say which is faster.
 */
export function compareLatency(baseMs: number[], otherMs: number[], seed = 7): Omit<BenchRatio, 'file'> {
  const ratio = median(otherMs) / median(baseMs);
  const ci95 = ratioInterval(baseMs, otherMs, seed);
  return { ratio, ci95, noisy: ci95[0] <= 1 && ci95[1] >= 1 };
}

