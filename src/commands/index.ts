// Every CLI command, in the order `onnxpress --help` lists them.
import type { CliCommand } from './command.js';
import { convertCommand } from './convert.js';
import { inspectCommand } from './inspect.js';
import { optimizeCommand } from './optimize.js';
import { quantizeCommand } from './quantize.js';
import { benchCommand, evalCommand } from './measure.js';

export const commands: CliCommand[] = [inspectCommand, convertCommand, optimizeCommand, quantizeCommand, benchCommand, evalCommand];
