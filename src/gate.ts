// `gateModels`: checks an existing compressed model against its original and the
// tolerances, for CI. The same measurements and report as compress, with one candidate.
import type { Model } from './ir/graph.js';
import { benchModels, sizeOf } from './measure/bench.js';
import { evalModels } from './measure/eval.js';
import { REPORT_VERSION, splitData, type CompressData, type CompressReport } from './compress.js';
import { checkProfile, findTarget } from './targets/index.js';
import { judge, type Tolerances } from './verdict.js';
import { toolName } from './version.js';

export interface GateOptions {
  tolerances: Tolerances;
  data: CompressData;
  /** Check the candidate against this profile's op/dtype list and bench like it. */
  target?: string;
  benchRuns?: number;
}

export async function gateModels(original: Model, originalName: string, candidate: Model, candidateName: string, options: GateOptions): Promise<CompressReport> {
  const profile = options.target ? findTarget(options.target) : undefined;
  // Hold the calibration share apart here too, so gate and compress score the same samples.
  const { evaluation, labels } = splitData(options.data);
  const evalReport = await evalModels(original, candidate, { samples: evaluation, labels, quiet: true });
  const bench = await benchModels([{ label: originalName, model: original }, { label: candidateName, model: candidate }], {
    backend: profile?.bench.backend ?? 'node', threads: profile?.bench.threads ?? 1, runs: options.benchRuns ?? 30, samples: evaluation.slice(0, 8), quiet: true,
  });
  const [o, c] = bench.models;
  const sizes = { original: sizeOf(original), candidate: sizeOf(candidate) };
  const verdict = judge(options.tolerances, { eval: evalReport, originalBytes: sizes.original.bytes, bytes: sizes.candidate.bytes, originalLatencyMs: o!.latencyMs.p50, latencyMs: c!.latencyMs.p50 });
  const violations = profile ? checkProfile(candidate, profile) : [];
  if (violations.length) {
    const check = { metric: 'profile' as const, limit: 0, value: violations.length, pass: false, note: violations.map((v) => v.detail).join('; ') };
    verdict.checks.push(check);
    verdict.failed.push(check);
    verdict.pass = false;
  }
  return {
    version: REPORT_VERSION,
    tool: toolName(),
    target: { name: profile?.name ?? 'none', description: profile?.description ?? 'no target profile', assumes: profile?.assumes ?? '' },
    model: originalName,
    tolerances: options.tolerances,
    data: { calibrationSamples: options.data.samples.length - evaluation.length, evalSamples: evaluation.length, generated: options.data.generated, labelled: Boolean(labels) },
    bench: { backend: bench.backend, threads: bench.threads, runs: bench.runs },
    original: { ...sizes.original, latencyMs: o!.latencyMs, samplesMs: o!.samplesMs },
    candidates: [{ recipe: candidateName, ...sizes.candidate, latencyMs: c!.latencyMs, samplesMs: c!.samplesMs, outputs: evalReport.outputs, accuracy: evalReport.accuracy, violations, verdict, steps: [], keptInFloat: [], leftInFloat: [] }],
    chosen: verdict.pass ? candidateName : null,
    verdict,
    warnings: options.data.generated ? ['no data: evaluated on generated inputs'] : [],
  };
}
