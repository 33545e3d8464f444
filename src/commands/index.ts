// Every CLI command, in the order `onnxpress --help` lists them.
import type { CliCommand } from './command.js';
import { convertCommand } from './convert.js';
import { inspectCommand } from './inspect.js';
import { optimizeCommand } from './optimize.js';
import { quantizeCommand } from './quantize.js';
import { benchCommand, evalCommand } from './measure.js';
import { compressCommand, gateCommand } from './compress.js';
import { pruneCommand } from './prune.js';

export const commands: CliCommand[] = [
  compressCommand, gateCommand, inspectCommand, optimizeCommand, quantizeCommand, pruneCommand, benchCommand, evalCommand, convertCommand,
];
