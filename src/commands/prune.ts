import { sizeOf } from '../measure/bench.js';
import type { CliCommand } from './command.js';
import { printJson } from './command.js';
import { parseList, parseNumber } from './parse.js';
import { addDataFlags, readData, type DataFlags } from './data-flags.js';
import { OnnxpressError } from '../errors.js';
import { loadModel } from '../onnx/load.js';
import { saveModel } from '../onnx/save.js';
import { refuseOverwritingInputs } from '../onnx/output-guard.js';
import { optimizeModel } from '../optimize.js';
import { chooseLevels, layerSensitivity, prunableLayers, pruneModel, SENSITIVITY_LEVELS, type PruneReport } from '../prune/index.js';
import { formatBytes } from '../format.js';

type Flags = DataFlags & { output: string; method: string; sparsity: string; pattern: string; ratio: string; norm: string; global?: boolean; pruneEnds?: boolean; exclude?: string; sensitivity?: boolean; calibration?: string; reconstruct: boolean; json?: boolean };

export const pruneCommand: CliCommand = {
  name: 'prune',
  register(program) {
    addDataFlags(program
      .command('prune')
      .description('prune weights: magnitude (unstructured), N:M, or whole channels that really shrink the model')
      .argument('<model>', 'the .onnx file')
      .requiredOption('-o, --output <file>', 'where to write the pruned model')
      .option('--method <m>', 'magnitude | nm | channels', 'magnitude')
      .option('--sparsity <s>', 'magnitude: share of weights zeroed', '0.5')
      .option('--global', 'magnitude: one threshold across layers instead of per layer')
      .option('--pattern <n:m>', 'nm: keep N of every M weights (Conv: input channels at each kernel position)', '2:4')
      .option('--ratio <r>', 'channels: share of channels removed per group', '0.3')
      .option('--norm <n>', 'channels: l1 | l2 ranking', 'l1')
      .option('--prune-ends', 'also prune the first and last weighted layers')
      .option('--exclude <names>', 'layers (node names) left alone')
      .option('--calibration <dir>', 'folder of real inputs (as --data): activation-aware scores and reconstruction of what remains')
      .option('--no-reconstruct', 'with --calibration: only the activation-aware scores, no re-fit')
      .option('--sensitivity', 'with --calibration: per-layer output error before and after reconstruction; without: (magnitude) measure each layer alone and choose per-layer levels reaching --sparsity'), '32')
      .option('--json', 'print one JSON object')
      .action(async (file: string, f: Flags) => {
        const model = loadModel(file);
        refuseOverwritingInputs({ file: f.output }, model);
        const method = f.method as 'magnitude' | 'nm' | 'channels';
        if (!['magnitude', 'nm', 'channels'].includes(method)) throw new OnnxpressError('BAD_INPUT', `--method '${f.method}': expected magnitude, nm or channels`);
        const [n, m] = parsePattern(f.pattern);
        const sparsity = parseNumber('--sparsity', f.sparsity, { min: 0, max: 0.99 });
        const ratio = parseNumber('--ratio', f.ratio, { min: 0.01, max: 0.95 });
        if (f.global && f.calibration) throw new OnnxpressError('BAD_INPUT', '--global: one threshold across layers compares magnitudes alone; with --calibration scores are compared within each layer');
        // Weights in Constant nodes (paddle2onnx exports) become initializers: prunable, and
        // seen by the sensitivity analysis below. Nothing else about the graph changes.
        if (method !== 'channels') await optimizeModel(model, { passes: ['constant-to-initializer'] });
        const calibration = f.calibration ? (await readData(model, { ...f, data: f.calibration })).samples : undefined;
        let layerSparsity: Map<string, number> | undefined;
        let table: Awaited<ReturnType<typeof layerSensitivity>> | undefined;
        if (f.sensitivity && !calibration) {
          if (method !== 'magnitude') throw new OnnxpressError('BAD_INPUT', '--sensitivity without --calibration works with --method magnitude');
          const data = await readData(model, f);
          const layers = prunableLayers(model).layers.map((l) => l.name);
          const chosen = f.pruneEnds ? layers : layers.slice(1, -1);
          table = await layerSensitivity(model, data.samples, chosen);
          layerSparsity = chooseLevels(table, sparsity);
        }
        // Channel groups are found on the optimized graph (BatchNorm folded into Conv: fewer
        // tensors to keep aligned, constants made visible). Magnitude and N:M prune as loaded
        // (Constant weights made initializers above).
        const sizeBefore = sizeOf(model);
        if (method === 'channels') await optimizeModel(model);
        const report = await pruneModel(model, {
          method, sparsity, layerSparsity, global: f.global, keepEnds: !f.pruneEnds, exclude: parseList(f.exclude),
          n, m, ratio, norm: f.norm === 'l2' ? 'l2' : 'l1',
          calibration, reconstruct: f.reconstruct, statistics: { quiet: f.json },
        });
        // A file identical to the input (every layer skipped) would read as a pruned model.
        const unchanged = report.method === 'channels' ? !report.groups?.some((g) => !g.skipped && g.kept < g.channels) : report.layers.length === 0;
        if (unchanged && report.method === 'channels' && report.groups?.some((g) => !g.skipped)) {
          throw new OnnxpressError('UNSUPPORTED', `nothing was pruned: at --ratio ${ratio} every group keeps all its channels (a group of 16 or more keeps a multiple of 8); nothing written`);
        }
        if (unchanged) {
          const first = report.skipped[0];
          throw new OnnxpressError('UNSUPPORTED', `nothing was pruned${report.skipped.length ? `: ${report.skipped.length} layer(s) skipped (${first!.name}: ${first!.reason.replace('(exclude)', '(--exclude)')}${report.skipped.length > 1 ? ', ...' : ''})` : ': no Conv, Gemm or MatMul with constant weights'}; nothing written`);
        }
        saveModel(model, f.output);
        const bytes = { before: sizeSet(sizeBefore), after: sizeSet(sizeOf(f.output)) };
        if (f.json) printJson({ ...report, bytes, sensitivity: table });
        else {
          if (table) {
            process.stdout.write(`sensitivity (output relative error with one layer pruned):\n${'layer'.padEnd(28)}${SENSITIVITY_LEVELS.map((l) => `${l * 100}%`.padStart(9)).join('')}   chosen\n`);
            for (const row of table) process.stdout.write(`${row.name.slice(0, 27).padEnd(28)}${SENSITIVITY_LEVELS.map((l) => row.errors[String(l)]!.toExponential(1).padStart(9)).join('')}   ${(100 * layerSparsity!.get(row.name)!).toFixed(0)}%\n`);
          }
          if (f.sensitivity && report.layerErrors) process.stdout.write(renderErrors(report));
          process.stdout.write(render(report, bytes, f.output) + '\n');
        }
        for (const note of report.notes) if (!f.json) process.stderr.write(`note: ${note.replace('(calibration)', '(--calibration DIR)')}\n`);
      });
  },
};

function parsePattern(p: string): [number, number] {
  const match = /^(\d+):(\d+)$/.exec(p.trim());
  const [n, m] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(n > 0 && n < m)) throw new OnnxpressError('BAD_INPUT', `--pattern '${p}': expected N:M with 0 < N < M, e.g. 2:4`);
  return [n, m];
}

function renderErrors(r: PruneReport): string {
  const lines = ['layer output error on the calibration data (relative MSE), mask only -> after reconstruction:'];
  for (const e of r.layerErrors!) lines.push(`  ${e.name.slice(0, 40).padEnd(41)}${e.before.toExponential(2).padStart(10)} -> ${e.after.toExponential(2).padEnd(10)} ${e.update}`);
  return lines.join('\n') + '\n';
}

interface SizeSet { raw: number; gzip: number; brotli: number }
const sizeSet = (s: ReturnType<typeof sizeOf>): SizeSet => ({ raw: s.bytes, gzip: s.gzipBytes, brotli: s.brotliBytes });

function render(r: PruneReport, b: { before: SizeSet; after: SizeSet }, output: string): string {
  const lines = [`method      ${r.method}`, `parameters  ${r.parameters.before.toLocaleString('en-US')} -> ${r.parameters.after.toLocaleString('en-US')} (${r.parameters.nonZeroAfter.toLocaleString('en-US')} non-zero)`,
    `size        raw ${formatBytes(b.before.raw)} -> ${formatBytes(b.after.raw)}, gzip ${formatBytes(b.before.gzip)} -> ${formatBytes(b.after.gzip)}, brotli ${formatBytes(b.before.brotli)} -> ${formatBytes(b.after.brotli)}`];
  for (const l of r.layers.slice(0, 20)) lines.push(`  ${l.name.padEnd(30)} ${l.sparsity !== undefined ? `${(100 * l.sparsity).toFixed(1)}% zero` : `${l.kept}/${l.channels} channels kept`}`);
  for (const s of r.skipped.slice(0, 10)) lines.push(`  skipped ${s.name}: ${s.reason}`);
  if (r.calibration) {
    const c = r.calibration;
    const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
    lines.push(`calibration ${c.samples} samples, ${c.passes} pass${c.passes === 1 ? '' : 'es'}, statistics ${mb(c.peakStatsBytes)} + activations ${mb(c.peakActivationBytes)} (budget ${mb(c.budgetBytes)})`);
    for (const ob of c.overBudget.slice(0, 5)) lines.push(`  ${ob.layer}: X^T X (${mb(ob.gramBytes)}) over the budget: ${ob.pieces ? `${ob.pieces} diagonal blocks` : 'means and norms only'}`);
  }
  lines.push(`wrote ${output}`);
  return lines.join('\n');
}
