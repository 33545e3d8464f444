import type { CliCommand } from './command.js';
import { printJson } from './command.js';
import { loadModel } from '../onnx/load.js';
import { inspectModel, renderInspect } from '../inspect.js';

export const inspectCommand: CliCommand = {
  name: 'inspect',
  register(program) {
    program
      .command('inspect')
      .description('show what a model is made of: IO, opsets, op types, parameters, weight bytes, MACs')
      .argument('<model>', 'the .onnx file')
      .option('--json', 'print one JSON object')
      .action((file: string, opts: { json?: boolean }) => {
        const report = inspectModel(loadModel(file));
        if (opts.json) printJson(report);
        else process.stdout.write(renderInspect(report) + '\n');
      });
  },
};
