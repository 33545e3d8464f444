// The command line: commander flags -> library calls -> printing. No logic lives here
// beyond parsing and presenting; each command is one file in src/commands/.
import { Command, CommanderError } from 'commander';
import { exitCodeFor, messageOf } from './errors.js';
import { commands } from './commands/index.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('onnxpress')
    .description('Make ONNX models smaller and faster for edge deployment, and prove it did no harm.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let exitCode = 0;
  for (const command of commands) {
    command.register(program, (code) => { exitCode = code; });
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    process.stderr.write(`onnxpress: ${messageOf(err)}\n`);
    return exitCodeFor(err);
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
