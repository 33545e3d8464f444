// The side-by-side bench, run where a `wasm` model ships: onnxruntime-web in headless
// Chromium. Every model is timed in both builds a site may load, cold and steady; the
// verdict's latency guard reads the steady samples of the build the profile names, so the
// 95%-interval machinery works unchanged. Without a browser it falls back to onnxruntime-web
// in Node and says so.
import { BrowserRuntime, browserUnavailable, WEB_BUILDS, type BrowserTiming, type WebBuild } from '../runtime/browser.js';
import type { Sample } from '../runtime/samples.js';
import { benchModels, bytesOf, compareLatency, sizeOf, type BenchReport, type BenchSource, type ModelBench } from './bench.js';
import { median, sampleSummary } from './stats.js';

/** One build's figures for one model: cold (what a page that runs the model once sees) and steady. */
export interface BrowserFigures {
  build: WebBuild;
  /** Session creation in a fresh browser. */
  createMs: number;
  /** The first inferences after it, in order. */
  firstRunsMs: number[];
  /** createMs plus the first inferences: the cold start. */
  coldMs: number;
  /** Median of the steady-state runs. */
  steadyP50Ms: number;
}

export interface BrowserBenchReport extends BenchReport {
  /** Per model, in source order: both builds' figures (absent when it fell back to Node). */
  browser?: BrowserFigures[][];
  /** The build whose steady samples are in `models` (and the verdict reads). */
  judgedBuild?: WebBuild;
  warnings: string[];
}

export interface BrowserBenchOptions {
  runs: number;
  samples: Sample[];
  build: WebBuild;
  /** A first bench of the same sources: a re-bench for a tighter interval keeps its cold starts and times steady runs only. */
  previous?: BrowserBenchReport;
}

/** Times `sources` in Chromium, or in Node's onnxruntime-web with a warning when no browser is available. */
export async function benchInBrowser(sources: BenchSource[], o: BrowserBenchOptions): Promise<BrowserBenchReport> {
  const inNode = async (why: string): Promise<BrowserBenchReport> => {
    const node = await benchModels(sources, { backend: 'wasm', threads: 1, runs: o.runs, samples: o.samples, quiet: true });
    return { ...node, warnings: [`latency measured in onnxruntime-web in Node, not in a browser (${why}): a page's cold start and tier-up are not seen`] };
  };
  const why = browserUnavailable();
  if (why) return inNode(why);
  let browser: BrowserRuntime;
  try {
    browser = await BrowserRuntime.launch();
  } catch (err) {
    // A Chromium that is installed but will not start (a missing library, no /dev/shm) is no browser either.
    return inNode(`Chromium did not start: ${(err as Error).message.split('\n')[0]}`);
  }
  let timings: BrowserTiming[];
  try {
    const models = sources.map((s) => ({ label: s.label, bytes: bytesOf(s.model) }));
    timings = await browser.bench(models, o.samples, { runs: o.runs, builds: WEB_BUILDS, cold: !o.previous?.browser });
  } finally {
    await browser.close();
  }
  const of = (i: number, build: WebBuild) => timings.find((t) => t.label === sources[i]!.label && t.build === build)!;
  const models = sources.map((s, i): ModelBench => {
    const t = of(i, o.build);
    return { file: s.label, ...(s.size ?? sizeOf(s.model)), initMs: o.previous?.models[i]?.initMs ?? t.cold.createMs, latencyMs: sampleSummary(t.samplesMs, i + 1), peakRssBytes: 0, samplesMs: t.samplesMs };
  });
  const browserFigures = sources.map((_, i) => WEB_BUILDS.map((build): BrowserFigures => {
    const t = of(i, build);
    const before = o.previous?.browser?.[i]?.find((f) => f.build === build);
    if (before) return { ...before, steadyP50Ms: median(t.samplesMs) };
    return { build, createMs: t.cold.createMs, firstRunsMs: t.cold.firstRunsMs, coldMs: t.cold.createMs + t.cold.firstRunsMs.reduce((a, b) => a + b, 0), steadyP50Ms: median(t.samplesMs) };
  }));
  const ratios = models.slice(1).map((m, i) => ({ file: m.file, ...compareLatency(models[0]!.samplesMs, m.samplesMs, i + 7) }));
  return { backend: 'wasm', threads: 1, runs: Math.min(...models.map((m) => m.samplesMs.length)), runsPerFigure: of(0, o.build).runsPerFigure, models, ratios, browser: browserFigures, judgedBuild: o.build, warnings: [] };
}
