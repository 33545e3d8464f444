// `gateModels`: checks an existing compressed model against its original and the
// tolerances, for CI. The same measurements and report as compress, with one candidate.
import type { Model } from './ir/graph.js';
import { sizeOf } from './measure/bench.js';
import { evalModels } from './measure/eval.js';
import { runtimeAgreement, RUNTIME_BACKENDS } from './measure/agreement.js';
import { benchSideBySide, clipFor, splitData, type CompressData } from './compress.js';
import { buildReport, type CompressReport } from './report/build.js';
import { checkProfile, findTarget } from './targets/index.js';
import { applyDefaults, type Tolerances } from './verdict.js';

export interface GateOptions {
  /** The user's limits; with a target, its defaults apply to every key left unset. */
  tolerances: Tolerances;
  data: CompressData;
  /** Check the candidate against this profile's op/dtype list and defaults, and bench like it. */
  target?: string;
  benchRuns?: number;
}

export async function gateModels(original: Model, originalName: string, candidate: Model, candidateName: string, options: GateOptions): Promise<CompressReport> {
  const profile = options.target ? findTarget(options.target) : undefined;
  // Hold the calibration share apart here too, so gate and compress score the same samples.
  const { evaluation, labels, slices } = splitData(options.data);
  const evalReport = await evalModels(original, candidate, { samples: evaluation, labels, slices, quiet: true });
  // The limits judged, the target's defaults included: what decides whether clip rates are measured and timing re-run.
  const applied = applyDefaults(options.tolerances, profile?.defaults ?? {}, Boolean(labels)).tolerances;
  const clip = await clipFor(candidate, evaluation, applied);
  const sizes = { original: sizeOf(original), candidate: sizeOf(candidate) };
  const bench = await benchSideBySide([{ label: originalName, model: original, size: sizes.original }, { label: candidateName, model: candidate, size: sizes.candidate }], profile?.bench ?? { backend: 'node', threads: 1 }, options.benchRuns ?? 30, evaluation.slice(0, 8), applied.maxLatencyRatio);
  const [o, c] = bench.models;
  const { report } = buildReport({
    profile, model: originalName, tolerances: options.tolerances,
    data: { calibrationSamples: options.data.samples.length - evaluation.length, evalSamples: evaluation.length, generated: options.data.generated, labelled: Boolean(labels) },
    bench: { backend: bench.backend, threads: bench.threads, runs: bench.runs },
    original: { ...sizes.original, latencyMs: o!.latencyMs, samplesMs: o!.samplesMs, browser: bench.browser?.[0] },
    candidates: [{ recipe: candidateName, size: sizes.candidate, timing: c!, browser: bench.browser?.[1], eval: evalReport, clip, violations: profile ? checkProfile(candidate, profile, original) : [] }],
    warnings: bench.warnings, judgedBuild: bench.judgedBuild,
  });
  // A wasm model may ship on more than one runtime: say how far they disagree on it.
  if (profile?.bench.backend === 'wasm') report.agreement = await runtimeAgreement(original, candidate, evaluation.slice(0, 16), RUNTIME_BACKENDS);
  return report;
}
