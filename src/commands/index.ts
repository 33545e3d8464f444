// Every CLI command, in the order `onnxpress --help` lists them. Each command's module pulls
// in onnxruntime, protobuf and the passes, so the CLI loads only the module of the command
// being run; `--help` and `--version` load none. The usage and description here are what the
// top-level help lists; test/cli/lazy-commands.test.ts checks they match what each module
// registers, so the two cannot drift apart.
import type { CliCommand } from './command.js';

export interface CommandEntry {
  name: string;
  /** What commander's listing shows after the name, e.g. '[options] <model>' ('' for none). */
  usage: string;
  description: string;
  /** The module that registers this command (one module may register several). */
  load(): Promise<CliCommand>;
}

const compress = () => import('./compress.js');
const measure = () => import('./measure.js');
const optimize = () => import('./optimize.js');

export const commands: CommandEntry[] = [
  { name: 'compress', usage: '[options] [model]', description: 'compress a model for an edge target and judge it against tolerances (exit 1 on FAIL)', load: async () => (await compress()).compressCommand },
  { name: 'gate', usage: '[options] [original] [candidate]', description: 'check a compressed model against its original and tolerances, for CI (exit 0 PASS, 1 FAIL)', load: async () => (await compress()).gateCommand },
  { name: 'verify', usage: '[options] <lock>', description: 'rebuild a compress run from its onnxpress.lock.json: same inputs, same bytes, same verdict (exit 1 on a difference)', load: async () => (await import('./verify.js')).verifyCommand },
  { name: 'inspect', usage: '[options] <model>', description: 'show what a model is made of: IO, opsets, op types, parameters, weight bytes, MACs', load: async () => (await import('./inspect.js')).inspectCommand },
  { name: 'optimize', usage: '[options] <model>', description: 'fuse, fold and clean up a model with standard ONNX ops (default pipeline safe for every runtime)', load: async () => (await optimize()).optimizeCommand },
  { name: 'passes', usage: '', description: 'list every optimization pass with a one-line description', load: async () => (await optimize()).optimizeCommand },
  { name: 'quantize', usage: '[options] <model>', description: 'quantize a model: int8-dynamic, int8-static (QDQ, calibrated), fp16, int4 (weight-only)', load: async () => (await import('./quantize.js')).quantizeCommand },
  { name: 'prune', usage: '[options] <model>', description: 'prune weights: magnitude (unstructured), N:M, or whole channels that really shrink the model', load: async () => (await import('./prune.js')).pruneCommand },
  { name: 'bench', usage: '[options] <models...>', description: 'time models in onnxruntime (interleaved when several), with sizes raw/gzip/brotli', load: async () => (await measure()).benchCommand },
  { name: 'eval', usage: '[options] <reference> <candidate>', description: 'compare a candidate model with its reference on the same inputs: errors, agreement, accuracy', load: async () => (await measure()).evalCommand },
  { name: 'convert', usage: '[options] <model>', description: 're-save a model: raise its opset (--opset), move weights to or from one external-data file', load: async () => (await import('./convert.js')).convertCommand },
];
