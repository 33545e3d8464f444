import type { CliCommand } from './command.js';
import { badInput } from '../errors.js';
import { printJson } from './command.js';
import { convertModel } from '../convert.js';
import { MAX_OPSET } from '../convert/opset/index.js';
import { parseByteCount, parseNumber } from './parse.js';
import { namingFlags } from './option-flags.js';

export const convertCommand: CliCommand = {
  name: 'convert',
  register(program) {
    program
      .command('convert')
      .description('re-save a model: raise its opset (--opset), move weights to or from one external-data file')
      .argument('<model>', 'the .onnx file')
      .requiredOption('-o, --output <file>', 'where to write the model')
      .option('--opset <version>', `raise the default-domain opset to this version (up to ${MAX_OPSET}), rewriting ops whose form changed`)
      .option('--external-data <file>', 'store weights in this file beside the output')
      .option('--size-threshold <bytes>', 'tensors smaller than this stay inline', '1024')
      .option('--inline', 'store every weight inside the model file')
      .option('--json', 'print what was written as JSON')
      .action(async (file: string, opts: { output: string; opset?: string; externalData?: string; sizeThreshold: string; inline?: boolean; json?: boolean }) => {
        const result = await namingFlags({ inline: '--inline', externalData: '--external-data', opset: '--opset' }, () => convertModel(file, opts.output, {
          opset: opts.opset === undefined ? undefined : parseOpset(opts.opset),
          externalData: opts.externalData,
          sizeThresholdBytes: parseByteCount('--size-threshold', opts.sizeThreshold),
          inline: opts.inline,
        }));
        if (opts.json) printJson(result);
        else {
          const o = result.opset;
          if (o) process.stdout.write(o.from === o.to ? `opset already ${o.to}\n` : `opset ${o.from} -> ${o.to} (${o.rewritten} nodes rewritten)\n`);
          process.stdout.write(`wrote ${result.file} (${result.fileBytes} bytes)${result.externalFile ? ` + ${result.externalFile} (${result.externalBytes} bytes)` : ''}\n`);
        }
      });
  },
};

function parseOpset(value: string): number {
  const n = parseNumber('--opset', value, { min: 1, max: MAX_OPSET });
  if (!Number.isInteger(n)) throw badInput(`--opset: expected a whole opset version, got '${value}'`);
  return n;
}
