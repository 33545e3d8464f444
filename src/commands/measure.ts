import type { CliCommand } from './command.js';
import { printJson } from './command.js';
import { parseNumber } from './parse.js';
import { addDataFlags, addShapeFlags, printInputShapes, readData, shapeOptionsOf, type DataFlags } from './data-flags.js';
import { OnnxpressError } from '../errors.js';
import { benchModels, type BenchReport } from '../measure/bench.js';
import { evalModels, type EvalReport } from '../measure/eval.js';
import { RUNTIME_BACKENDS, runtimeAgreement, type AgreementReport, type RuntimeBackend } from '../measure/agreement.js';
import { generateSamples, loadSamples } from '../runtime/samples.js';
import { openSession } from '../runtime/ort.js';
import { formatBytes } from '../format.js';
import { loadModel } from '../onnx/load.js';

export const benchCommand: CliCommand = {
  name: 'bench',
  register(program) {
    addShapeFlags(program
      .command('bench')
      .description('time models in onnxruntime (interleaved when several), with sizes raw/gzip/brotli')
      .argument('<models...>', '.onnx files; ratios are to the first')
      .option('--threads <n>', 'intra-op threads', '1')
      .option('--runs <n>', 'timed runs per model', '50')
      .option('--time <ms>', 'time each model for this long instead of a fixed number of runs')
      .option('--warmup <n>', 'warm-up runs per model', '5')
      .option('--backend <b>', 'node | wasm (onnxruntime-web, the browser target)', 'node'))
      .option('--inputs <dir>', 'time on these inputs instead of generated ones')
      .option('--json', 'print one JSON object')
      .action(async (files: string[], f: { threads: string; runs: string; time?: string; warmup: string; backend: string; dim?: string[]; shape?: string[]; inputs?: string; json?: boolean }) => {
        if (f.backend !== 'node' && f.backend !== 'wasm') throw new OnnxpressError('BAD_INPUT', `--backend '${f.backend}': expected node or wasm`);
        for (const file of files) loadModel(file); // a clear error before timing anything
        const shapes = shapeOptionsOf(f);
        const s = await openSession(files[0]!);
        await s.release();
        let samples;
        if (f.inputs) {
          const loaded = loadSamples(f.inputs, s.inputs, shapes);
          samples = loaded.samples;
          printInputShapes(s.inputs, samples, { origin: `${samples.length} samples from ${f.inputs}`, notes: loaded.notes });
        } else {
          samples = generateSamples(s.inputs, 1, 1, shapes); // the sample benchModels would generate
          printInputShapes(s.inputs, samples, { origin: 'one generated sample', generatedWith: shapes });
        }
        const report = await benchModels(files.map((file) => ({ label: file, model: file })), {
          threads: parseNumber('--threads', f.threads, { min: 1 }),
          runs: f.time ? undefined : parseNumber('--runs', f.runs, { min: 5 }),
          timeMs: f.time ? parseNumber('--time', f.time, { min: 10 }) : undefined,
          warmup: parseNumber('--warmup', f.warmup, { min: 0 }),
          backend: f.backend,
          samples,
          quiet: f.json,
        });
        if (f.json) printJson({ ...report, models: report.models.map(({ samplesMs: _, ...m }) => m) });
        else process.stdout.write(renderBench(report) + '\n');
      });
  },
};

export function renderBench(r: BenchReport): string {
  const lines = [`backend ${r.backend}, ${r.threads} thread(s), ${r.runs} figures each${r.runsPerFigure > 1 ? ` (each the mean of ${r.runsPerFigure} back-to-back runs)` : ''}`, 'model'.padEnd(40) + 'size'.padStart(11) + 'brotli'.padStart(11) + 'init ms'.padStart(10) + 'p50 ms'.padStart(10) + 'p90 ms'.padStart(10)];
  for (const m of r.models) lines.push(m.file.slice(-40).padEnd(40) + formatBytes(m.bytes).padStart(11) + formatBytes(m.brotliBytes).padStart(11) + m.initMs.toFixed(1).padStart(10) + m.latencyMs.p50.toFixed(3).padStart(10) + m.latencyMs.p90.toFixed(3).padStart(10));
  for (const q of r.ratios) lines.push(`${q.file}: ${q.ratio.toFixed(3)}x the first model's median (95% CI ${q.ci95[0].toFixed(3)}-${q.ci95[1].toFixed(3)})${q.noisy ? ': NOISY, the interval contains 1 (cannot tell the models apart)' : q.ci95[1] < 1 ? ': faster' : ': slower'}`);
  return lines.join('\n');
}

export const evalCommand: CliCommand = {
  name: 'eval',
  register(program) {
    addDataFlags(program
      .command('eval')
      .description('compare a candidate model with its reference on the same inputs: errors, agreement, accuracy')
      .argument('<reference>', 'the original .onnx')
      .argument('<candidate>', 'the compressed .onnx'), '100')
      .option('--per-tensor', 'rank the nodes where the error enters')
      .option('--backends <list>', 'also run both models on these runtimes and report how far they disagree: node,wasm,browser')
      .option('--json', 'print one JSON object')
      .action(async (reference: string, candidate: string, f: DataFlags & { perTensor?: boolean; backends?: string; json?: boolean }) => {
        const backends = f.backends?.split(',').map((b) => b.trim()).filter(Boolean);
        const unknown = backends?.find((b) => !RUNTIME_BACKENDS.includes(b as RuntimeBackend));
        if (unknown !== undefined) throw new OnnxpressError('BAD_INPUT', `--backends '${unknown}': expected ${RUNTIME_BACKENDS.join(', ')}`);
        loadModel(reference);
        loadModel(candidate);
        const data = await readData(reference, f);
        const report = await evalModels(reference, candidate, { samples: data.samples, labels: data.labels, labelsSource: data.labelsSource, slices: data.slices, perTensor: f.perTensor, quiet: f.json });
        // The browser's round trip per sample is slow; a few dozen samples show any kernel difference.
        const agreement = backends?.length ? await runtimeAgreement(reference, candidate, data.samples.slice(0, AGREEMENT_SAMPLES), backends as RuntimeBackend[]) : undefined;
        // On stderr, so --json output stays one object.
        if (agreement) for (const s of agreement.skipped) process.stderr.write(`warning: backend ${s.backend} skipped: ${s.reason}\n`);
        if (f.json) printJson(agreement ? { ...report, agreement } : report);
        else process.stdout.write(renderEval(report) + (agreement ? '\n' + renderAgreement(agreement) : '') + '\n');
      });
  },
};

const AGREEMENT_SAMPLES = 32;

export function renderAgreement(r: AgreementReport): string {
  const lines = [`runtimes compared on ${r.samples} samples: ${r.backends.join(', ')}${r.skipped.length ? ` (skipped: ${r.skipped.map((s) => s.backend).join(', ')})` : ''}`, 'model'.padEnd(11) + 'runtimes'.padEnd(17) + 'output'.padEnd(24) + 'max abs'.padStart(11) + 'cosine'.padStart(12)];
  for (const which of ['reference', 'candidate'] as const) {
    for (const p of r[which]) for (const [name, m] of Object.entries(p.outputs)) lines.push(which.padEnd(11) + p.between.join(' vs ').padEnd(17) + name.slice(0, 24).padEnd(24) + m.maxAbs.toExponential(2).padStart(11) + m.cosine.toFixed(8).padStart(12));
  }
  if (r.backends.length < 2) lines.push('fewer than two runtimes ran: nothing to compare');
  return lines.join('\n');
}

export function renderEval(r: EvalReport): string {
  const lines = [`${r.samples} samples`, 'output'.padEnd(24) + 'max abs'.padStart(11) + 'mean abs'.padStart(11) + 'rel'.padStart(10) + 'cosine'.padStart(10) + 'SNR dB'.padStart(9) + 'top-1'.padStart(8) + 'top-5'.padStart(8)];
  for (const [name, m] of Object.entries(r.outputs)) {
    lines.push(name.slice(0, 24).padEnd(24) + m.maxAbs.toExponential(2).padStart(11) + m.meanAbs.toExponential(2).padStart(11) + m.rel.toExponential(2).padStart(10) + m.cosine.toFixed(5).padStart(10) + m.snrDb.toFixed(1).padStart(9)
      + (m.top1Agreement !== undefined ? (100 * m.top1Agreement).toFixed(1).padStart(8) : ''.padStart(8)) + (m.top5Agreement !== undefined ? (100 * m.top5Agreement).toFixed(1).padStart(8) : ''));
  }
  if (r.accuracy) lines.push(`accuracy: reference ${r.accuracy.reference.toFixed(2)}%, candidate ${r.accuracy.candidate.toFixed(2)}% (${r.accuracy.delta >= 0 ? '+' : ''}${r.accuracy.delta.toFixed(2)} points)`);
  if (r.classes) {
    const { reference: a, candidate: b } = r.classes;
    lines.push(`macro F1: reference ${a.macroF1.toFixed(4)}, candidate ${b.macroF1.toFixed(4)}; largest per-class recall drop ${r.classes.maxRecallDrop.toFixed(2)} points`);
    lines.push('class'.padEnd(8) + 'n'.padStart(6) + 'recall ref'.padStart(12) + 'recall cand'.padStart(13) + 'prec ref'.padStart(10) + 'prec cand'.padStart(11) + 'F1 ref'.padStart(8) + 'F1 cand'.padStart(9));
    const candBy = new Map(b.classes.map((c) => [c.label, c]));
    for (const d of r.classes.deltas) {
      const ra = a.classes.find((c) => c.label === d.label)!, cb = candBy.get(d.label)!;
      lines.push(String(d.label).padEnd(8) + String(d.support).padStart(6) + (100 * ra.recall).toFixed(1).padStart(12) + (100 * cb.recall).toFixed(1).padStart(13) + (100 * ra.precision).toFixed(1).padStart(10) + (100 * cb.precision).toFixed(1).padStart(11) + ra.f1.toFixed(3).padStart(8) + cb.f1.toFixed(3).padStart(9));
    }
  }
  for (const s of r.slices ?? []) lines.push(`slice ${s.slice}: ${s.samples} samples, top-1 ${s.reference.toFixed(1)}% -> ${s.candidate.toFixed(1)}%${s.tooSmall ? ' (too few samples to judge)' : ` (${(-s.drop).toFixed(1)} points)`}`);
  if (r.perTensor) {
    lines.push('where the error enters (most added first):');
    for (const t of r.perTensor.slice(0, 10)) lines.push(`  ${t.node} (${t.opType}): rel ${t.rel.toExponential(2)}, added ${t.added.toExponential(2)}`);
  }
  return lines.join('\n');
}
