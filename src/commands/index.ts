// Every CLI command, in the order `onnxpress --help` lists them.
import type { CliCommand } from './command.js';

export const commands: CliCommand[] = [];
