// The CLI loads a command's module only when that command runs; the top-level help lists
// the others from src/commands/index.ts. These tests hold that table to what each module
// registers, and run main() in process, as a library caller would.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Help } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main, type CliIo } from '../../src/cli.js';
import { commands } from '../../src/commands/index.js';
import { TOOL_VERSION, toolName } from '../../src/version.js';
import { TESTDATA_DIR } from '../helpers/corpus.js';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', out: (s: string) => { io.stdout += s; }, err: (s: string) => { io.stderr += s; } };
  return io;
}

afterEach(() => { vi.restoreAllMocks(); });

describe('lazy command table', () => {
  it.each(commands.map((c) => [c.name, c] as const))('%s: name, listed usage and description match what its module registers', async (name, entry) => {
    const program = new Command('onnxpress');
    (await entry.load()).register(program, () => {});
    const real = program.commands.find((c) => c.name() === name);
    expect(real, `${name} is not registered by the module its entry loads`).toBeDefined();
    expect(real!.description()).toBe(entry.description);
    // What commander's own listing would show for the real command, placeholders show.
    expect(new Help().subcommandTerm(real!)).toBe([name, entry.usage].filter(Boolean).join(' '));
  });
});

describe('main()', () => {
  it('--version prints the version in package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const io = capture();
    expect(await main(['--version'], io)).toBe(0);
    expect(io.stdout.trim()).toBe(pkg.version);
    expect(TOOL_VERSION).toBe(pkg.version);
    expect(toolName()).toBe(`onnxpress ${pkg.version}`);
  });

  it('--help lists every command with its usage', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    for (const c of commands) expect(io.stdout).toContain([c.name, c.usage].filter(Boolean).join(' '));
  });

  it('an unknown command is bad input: exit 2, one line', async () => {
    const io = capture();
    expect(await main(['compres'], io)).toBe(2);
    expect(io.stderr).toMatch(/unknown command 'compres'/);
  });

  const absModel = join(TESTDATA_DIR, 'node/test_abs/model.onnx');
  it.skipIf(!existsSync(absModel))('runs a command in process: inspect --json', async () => {
    const model = absModel;
    let printed = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { printed += String(s); return true; });
    const code = await main(['inspect', model, '--json'], capture());
    vi.restoreAllMocks();
    expect(code).toBe(0);
    expect(JSON.parse(printed).inputs).toEqual([{ name: 'x', dtype: 'float', shape: [3, 4, 5] }]);
  });
});
