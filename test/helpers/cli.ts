// Runs the real CLI in a child process, as a user would. It runs the TypeScript sources
// (through tsx), never a dist/ build the checkout may hold from an earlier `npm run build`,
// so tests always see the code under test; test/package/ checks the built package.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
// Resolved from here, not from the child's cwd (tests run the CLI in temp dirs).
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliResult { code: number; stdout: string; stderr: string }

export function runCli(args: string[], options: { cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', TSX, ENTRY, ...args], { encoding: 'utf8', cwd: options.cwd, timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Timings on a shared machine are noise: this lifts a CPU target's "never surely slower"
 * default, so a verdict (and the test on it) rests on size and quality, which reproduce exactly.
 */
export const ANY_LATENCY = ['--max-latency-ratio', '1e6'];
