import type { CliCommand } from './command.js';
import { printJson } from './command.js';
import { convertModel } from '../convert.js';
import { parseByteCount } from './parse.js';
import { namingFlags } from './option-flags.js';

export const convertCommand: CliCommand = {
  name: 'convert',
  register(program) {
    program
      .command('convert')
      .description('re-save a model, moving weights to or from one external-data file')
      .argument('<model>', 'the .onnx file')
      .requiredOption('-o, --output <file>', 'where to write the model')
      .option('--external-data <file>', 'store weights in this file beside the output')
      .option('--size-threshold <bytes>', 'tensors smaller than this stay inline', '1024')
      .option('--inline', 'store every weight inside the model file')
      .option('--json', 'print what was written as JSON')
      .action(async (file: string, opts: { output: string; externalData?: string; sizeThreshold: string; inline?: boolean; json?: boolean }) => {
        const result = await namingFlags({ inline: '--inline', externalData: '--external-data' }, () => convertModel(file, opts.output, {
          externalData: opts.externalData,
          sizeThresholdBytes: parseByteCount('--size-threshold', opts.sizeThreshold),
          inline: opts.inline,
        }));
        if (opts.json) printJson(result);
        else process.stdout.write(`wrote ${result.file} (${result.fileBytes} bytes)${result.externalFile ? ` + ${result.externalFile} (${result.externalBytes} bytes)` : ''}\n`);
      });
  },
};
