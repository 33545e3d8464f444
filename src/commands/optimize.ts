import { OnnxpressError } from '../errors.js';
import type { CliCommand } from './command.js';
import { printJson } from './command.js';
import { parseByteCount, parseList } from './parse.js';
import { loadModel } from '../onnx/load.js';
import { saveModel } from '../onnx/save.js';
import { refuseOverwritingInputs } from '../onnx/output-guard.js';
import { optimizeModel, type OptimizeReport } from '../optimize.js';
import { allPasses, defaultPipeline } from '../../passes/index.js';
import { formatBytes } from '../format.js';

export const optimizeCommand: CliCommand = {
  name: 'optimize',
  register(program) {
    program
      .command('optimize')
      .description('fuse, fold and clean up a model with standard ONNX ops (default pipeline safe for every runtime)')
      .argument('<model>', 'the .onnx file')
      .requiredOption('-o, --output <file>', 'where to write the optimized model')
      .option('--passes <names>', 'comma-separated passes to run, in order (see `onnxpress passes`)')
      .option('--skip <names>', 'comma-separated passes to leave out')
      .option('--with <names>', 'comma-separated passes to run after the default pipeline (ones it leaves out, e.g. fuse-hard-sigmoid)')
      .option('--fold-growth <bytes>', "bytes constant folding may add to the file ('unlimited' folds like onnxruntime)", '0')
      .option('--json', 'print one JSON object: before, after, passes')
      .action(async (file: string, opts: { output: string; passes?: string; skip?: string; with?: string; foldGrowth: string; json?: boolean }) => {
        if (opts.passes && opts.with) throw new OnnxpressError('BAD_INPUT', '--passes and --with: give one (--passes replaces the default pipeline, --with adds to it)');
        const model = loadModel(file);
        refuseOverwritingInputs({ file: opts.output }, model);
        const foldSlackBytes = opts.foldGrowth === 'unlimited' ? Infinity : parseByteCount('--fold-growth', opts.foldGrowth);
        const report = await optimizeModel(model, { passes: opts.with ? [...defaultPipeline, ...parseList(opts.with)!] : parseList(opts.passes), skip: parseList(opts.skip), foldSlackBytes });
        saveModel(model, opts.output);
        if (opts.json) printJson({ before: report.before, after: report.after, rounds: report.rounds, passes: report.passes });
        else process.stdout.write(renderOptimize(report, opts.output) + '\n');
      });
    program
      .command('passes')
      .description('list every optimization pass with a one-line description')
      .action(() => {
        const width = Math.max(...allPasses.map((p) => p.name.length));
        for (const p of allPasses) {
          const mark = defaultPipeline.includes(p.name) ? '*' : ' ';
          process.stdout.write(`${mark} ${p.name.padEnd(width)}  ${p.description}\n`);
        }
        process.stdout.write('\n* = in the default pipeline\n');
      });
  },
};

function renderOptimize(r: OptimizeReport, output: string): string {
  const lines = [
    `nodes  ${r.before.nodeCount} -> ${r.after.nodeCount}`,
    `size   ${formatBytes(r.before.fileBytes)} -> ${formatBytes(r.after.fileBytes)}`,
  ];
  for (const [name, p] of Object.entries(r.passes)) {
    if (!p.changedRounds) continue;
    lines.push(`  ${name.padEnd(34)} ${Object.entries(p.stats).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  lines.push(`wrote ${output}`);
  return lines.join('\n');
}
