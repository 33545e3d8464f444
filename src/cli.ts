// The command line: commander flags -> library calls -> printing. No logic lives here
// beyond parsing and presenting; each command is one file in src/commands/. Importing this
// module does nothing: bin/onnxpress.js calls main() and sets the exit code.
import { Command, CommanderError } from 'commander';
import { exitCodeFor, messageOf } from './errors.js';
import { commands, type CommandEntry } from './commands/index.js';
import { TOOL_VERSION } from './version.js';

/** Where the CLI's own output goes (help, version, one-line errors). Commands print to process.stdout. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: CliIo = {
  out: (s) => { process.stdout.write(s); },
  err: (s) => { process.stderr.write(s); },
};

/** Runs the CLI on `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = new Command('onnxpress')
    .description('Make ONNX models smaller and faster for edge deployment, and prove it did no harm.')
    .version(TOOL_VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    // The top-level listing is of placeholders (below): each shows the usage its table entry states.
    .configureHelp({ subcommandTerm: (cmd) => [cmd.name(), commands.find((c) => c.name === cmd.name())?.usage ?? cmd.usage()].filter(Boolean).join(' ') });
  let exitCode = 0;
  try {
    const wanted = requestedCommand(argv);
    if (wanted) (await wanted.load()).register(program, (code) => { exitCode = code; });
    // The listing (`onnxpress`, `--help`) is only printed when no command is named, so the
    // placeholders then come in table order; a named command's module registers first.
    for (const entry of commands) {
      if (!program.commands.some((c) => c.name() === entry.name)) addPlaceholder(program, entry);
    }
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.err(`onnxpress: ${messageOf(err)}\n`);
    return exitCodeFor(err);
  }
}

/** The command argv names (`onnxpress NAME ...` or `onnxpress help NAME`), if it is one of ours. */
function requestedCommand(argv: string[]): CommandEntry | undefined {
  // The program itself has only -V and -h, neither takes a value: the first word is the command.
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return commands.find((c) => c.name === name);
}

/** A command that is listed in help but not run this time: its module is never loaded. */
function addPlaceholder(program: Command, entry: CommandEntry): void {
  program.addCommand(new Command(entry.name).description(entry.description));
}
