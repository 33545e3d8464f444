import type { Command } from 'commander';

/** One CLI command: registers itself on the program; `setExitCode` reports a verdict (1 = FAIL). */
export interface CliCommand {
  name: string;
  register(program: Command, setExitCode: (code: number) => void): void;
}

/** Prints a JSON object as one line-terminated document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
