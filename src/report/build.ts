// The one report compress and gate produce: every candidate judged against the tolerances
// (the target's defaults filled in where the user set none, its op/dtype list included), the
// candidate the target prefers chosen among those that pass, and the verdict. Plain data: the
// renderers (text, markdown, html, junit) only read it.
import { toolName } from '../version.js';
import type { EvalReport } from '../measure/eval.js';
import type { ClipReport } from '../measure/clip-rate.js';
import type { LayerError } from '../prune/data-aware.js';
import { ratioInterval, type Summary } from '../measure/stats.js';
import type { LeftInFloat } from '../quantize/options.js';
import type { BrowserFigures } from '../measure/browser-bench.js';
import type { AgreementReport } from '../measure/agreement.js';
import type { WebBuild } from '../runtime/browser.js';
import type { ProfileViolation, TargetProfile } from '../targets/profile.js';
import { applyDefaults, judge, type Tolerances, type Verdict } from '../verdict.js';

/** 2: tolerances include the target's defaults (listed in `defaulted`), latency ratios carry intervals, `notBuilt`. */
export const REPORT_VERSION = 2;

export interface SizeFacts { bytes: number; gzipBytes: number; brotliBytes: number }

/** A model's timings from the side-by-side bench: the summary and every sample. */
export interface Timing { latencyMs: Summary; samplesMs: number[] }

/** One onnxruntime-web build in Chromium, with the candidate's cold and steady figures over the original's. */
export interface BrowserComparison extends BrowserFigures { coldRatio: number; steadyRatio: number }

export interface CandidateReport extends SizeFacts {
  recipe: string;
  latencyMs?: Summary;
  samplesMs?: number[];
  /** candidate / original median latency, with its 95% bootstrap interval over the samples. */
  latencyRatio?: { ratio: number; ci95: [number, number] };
  /** Timed in headless Chromium (wasm target): both builds, cold and steady. */
  browser?: BrowserComparison[];
  outputs: EvalReport['outputs'];
  accuracy?: EvalReport['accuracy'];
  /** Per-class recall, precision and F1 of both models (with labels). */
  classes?: EvalReport['classes'];
  /** Top-1 per slice (with labels and --slices), the most hurt first. */
  slices?: EvalReport['slices'];
  /** Calibration-range drift on the evaluation data (when maxClipRate is asked). */
  clip?: ClipReport;
  /** Pruning with calibration data: each re-fitted layer's output error before and after reconstruction. */
  pruneErrors?: LayerError[];
  violations: ProfileViolation[];
  verdict: Verdict;
  /** What each step did, in order: prune, quantize. */
  steps: string[];
  /** Nodes returned to float by the accuracy-aware fallback. */
  keptInFloat: string[];
  /** Activations the accuracy-aware fallback quantized with 16 bits. */
  widened: string[];
  leftInFloat: LeftInFloat[];
}

/** A recipe whose build threw: the report lists it and the other recipes go on. */
export interface NotBuilt { recipe: string; reason: string }

export interface CompressReport {
  version: number;
  tool: string;
  target: { name: string; description: string; assumes: string };
  model: string;
  /** The limits checked: the user's, and the target's defaults for every key the user left unset. */
  tolerances: Tolerances;
  /** Which keys of `tolerances` are the target's defaults. */
  defaulted: (keyof Tolerances)[];
  /** Why this target has no latency default (its latency is measured on a stand-in). */
  latencyNotJudged?: string;
  data: { calibrationSamples: number; evalSamples: number; generated: boolean; labelled: boolean };
  bench: { backend: string; threads: number; runs: number; /** Timed in Chromium: the build whose steady runs the verdict read. */ browserBuild?: WebBuild };
  /** The optimize step every recipe starts from (absent in gate reports). */
  optimize?: { nodesBefore: number; nodesAfter: number; bytesBefore: number; bytesAfter: number; passes: string[] };
  original: SizeFacts & Partial<Timing> & { browser?: BrowserFigures[] };
  candidates: CandidateReport[];
  notBuilt: NotBuilt[];
  chosen: string | null;
  /** Index in `candidates` of the model written: the chosen one, else the one that broke the fewest tolerances. */
  written: number;
  verdict: Verdict;
  warnings: string[];
  /** wasm target: the original and the written model run in onnxruntime-node, onnxruntime-web in Node and in Chromium, each pair compared. */
  agreement?: AgreementReport;
}

export interface CandidateInput {
  recipe: string;
  size: SizeFacts;
  timing?: Timing;
  browser?: BrowserFigures[];
  eval: EvalReport;
  clip?: ClipReport;
  pruneErrors?: LayerError[];
  violations: ProfileViolation[];
  steps?: string[];
  keptInFloat?: string[];
  widened?: string[];
  leftInFloat?: LeftInFloat[];
}

export interface ReportInput {
  /** Absent for a gate without --target: no defaults, no op list, any passing candidate. */
  profile?: TargetProfile;
  model: string;
  /** What the user set; the profile's defaults fill the rest. */
  tolerances: Tolerances;
  data: CompressReport['data'];
  bench: CompressReport['bench'];
  original: SizeFacts & Partial<Timing> & { browser?: BrowserFigures[] };
  candidates: CandidateInput[];
  /** The browser build whose steady runs are in the timings. */
  judgedBuild?: WebBuild;
  notBuilt?: NotBuilt[];
  optimize?: CompressReport['optimize'];
  warnings?: string[];
}

/** The report, and which candidate to write: the chosen one, else the one that broke the fewest tolerances. */
export function buildReport(input: ReportInput): { report: CompressReport; written: number } {
  const { profile, original } = input;
  const applied = applyDefaults(input.tolerances, profile?.defaults ?? {}, input.data.labelled);
  const candidates = input.candidates.map((c, i): CandidateReport => {
    const latencyRatio = original.samplesMs?.length && c.timing?.samplesMs.length
      ? { ratio: c.timing.latencyMs.p50 / original.latencyMs!.p50, ci95: ratioInterval(original.samplesMs, c.timing.samplesMs, i + 7) }
      : undefined;
    const latency = latencyRatio && { ms: c.timing!.latencyMs, ratio: latencyRatio.ratio, ratioCi95: latencyRatio.ci95 };
    const verdict = judge(applied.tolerances, { eval: c.eval, originalBytes: original.bytes, bytes: c.size.bytes, latency, violations: c.violations, clip: c.clip }, applied.defaulted);
    return {
      recipe: c.recipe, ...c.size, latencyMs: c.timing?.latencyMs, samplesMs: c.timing?.samplesMs, latencyRatio, browser: compareInBrowser(original.browser, c.browser),
      outputs: c.eval.outputs, accuracy: c.eval.accuracy, classes: c.eval.classes, slices: c.eval.slices, clip: c.clip, pruneErrors: c.pruneErrors, violations: c.violations, verdict,
      steps: c.steps ?? [], keptInFloat: c.keptInFloat ?? [], widened: c.widened ?? [], leftInFloat: c.leftInFloat ?? [],
    };
  });
  const indexed = candidates.map((c, i) => ({ c, i }));
  const best = profile ? pickBest(profile, indexed.filter(({ c }) => c.verdict.pass)) : indexed.find(({ c }) => c.verdict.pass);
  const ratioOf = (c: CandidateReport) => c.latencyRatio?.ratio ?? Infinity;
  const written = best ?? [...indexed].sort((a, b) => a.c.verdict.failed.length - b.c.verdict.failed.length || ratioOf(a.c) - ratioOf(b.c))[0]!;
  const warnings = [...(input.data.generated ? ['inputs were generated, not read from data: quality is judged on agreement with the original only, and accuracy on real inputs is unknown'] : []), ...(input.warnings ?? [])];
  const report: CompressReport = {
    version: REPORT_VERSION,
    tool: toolName(),
    target: profile ? { name: profile.name, description: profile.description, assumes: profile.assumes } : { name: 'none', description: 'no target profile', assumes: '' },
    model: input.model,
    tolerances: applied.tolerances,
    defaulted: applied.defaulted,
    latencyNotJudged: profile?.latencyNotJudged,
    data: input.data,
    bench: input.judgedBuild ? { ...input.bench, browserBuild: input.judgedBuild } : input.bench,
    optimize: input.optimize,
    original,
    candidates,
    notBuilt: input.notBuilt ?? [],
    chosen: best ? best.c.recipe : null,
    written: written.i,
    verdict: best ? best.c.verdict : withSlowerRecipes(written.c.verdict, candidates),
    warnings,
  };
  return { report, written: written.i };
}

function compareInBrowser(original?: BrowserFigures[], candidate?: BrowserFigures[]): BrowserComparison[] | undefined {
  if (!original || !candidate) return undefined;
  return candidate.flatMap((c) => {
    const o = original.find((f) => f.build === c.build);
    return o ? [{ ...c, coldRatio: c.coldMs / o.coldMs, steadyRatio: c.steadyP50Ms / o.steadyP50Ms }] : [];
  });
}

/** When nothing passed and latency is among the failures, the latency check names every recipe that was slower, and by how much. */
function withSlowerRecipes(v: Verdict, candidates: CandidateReport[]): Verdict {
  const slower = candidates.filter((c) => c.verdict.failed.some((f) => f.metric === 'maxLatencyRatio' && f.value !== null));
  const limit = v.failed.find((f) => f.metric === 'maxLatencyRatio')?.limit;
  if (!slower.length || limit === undefined) return v;
  const note = `${limit === 1 ? 'slower than the original' : `slower than ${limit}x the original`}: ${slower.map((c) => `${c.recipe} ${c.latencyRatio!.ratio.toFixed(2)}x (95% CI ${c.latencyRatio!.ci95[0].toFixed(2)}-${c.latencyRatio!.ci95[1].toFixed(2)})`).join(', ')}`;
  const checks = v.checks.map((c) => (c.metric === 'maxLatencyRatio' && !c.pass ? { ...c, note } : c));
  return { pass: false, checks, failed: checks.filter((c) => !c.pass) };
}

/** A candidate replaces the one before it on latency only when surely this much faster. */
const CLEARLY_FASTER = 0.9;

/** Size-first profiles still skip a candidate more than this much slower than the fastest passing one. */
const SIZE_FIRST_LATENCY_SLACK = 1.5;

/** The size a size-first profile ranks by: the file for 'size', the brotli download otherwise. */
export function objectiveBytes(profile: TargetProfile, size: { bytes: number; brotliBytes: number }): number {
  return profile.objective === 'size' ? size.bytes : size.brotliBytes;
}

/**
 * The passing candidate the profile prefers. Sizes are exact, so they decide directly (ties
 * keep recipe order) among candidates not surely slower than SIZE_FIRST_LATENCY_SLACK x the fastest: a few
 * KiB saved do not pay for a model 4x slower (dynamic int8 convs on WebAssembly). Timings are
 * noisy: on latency a later candidate wins only when the 95% interval of its latency ratio
 * lies below CLEARLY_FASTER, so the same input picks the same model unless two candidates run
 * within about 10% of each other.
 */
export function pickBest<T extends { c: CandidateReport }>(profile: TargetProfile, passing: T[]): T | undefined {
  if (profile.objective !== 'latency') {
    const key = (c: CandidateReport) => objectiveBytes(profile, c);
    const p50 = (c: CandidateReport) => c.latencyMs?.p50 ?? Infinity;
    const fastest = [...passing].sort((a, b) => p50(a.c) - p50(b.c))[0]?.c;
    // Skipped only when surely too slow: a sub-millisecond model's few runs can show 2x on a
    // busy machine that the next run does not, and the same input should pick the same model.
    const tooSlow = (c: CandidateReport) => fastest?.samplesMs?.length && c.samplesMs?.length
      ? ratioInterval(fastest.samplesMs, c.samplesMs)[0] > SIZE_FIRST_LATENCY_SLACK
      : p50(c) > SIZE_FIRST_LATENCY_SLACK * p50(fastest!);
    return passing.filter((p) => !tooSlow(p.c)).sort((a, b) => key(a.c) - key(b.c))[0];
  }
  let best = passing[0];
  for (const p of passing.slice(1)) {
    if (!best!.c.samplesMs?.length || !p.c.samplesMs?.length) continue;
    if (ratioInterval(best!.c.samplesMs, p.c.samplesMs)[1] < CLEARLY_FASTER) best = p;
  }
  return best;
}
