// CLI start-up: `onnxpress --version` from the built package, as installed by a user
// (packed, then `npm install --omit=dev` into a scratch project; test/helpers/pack.ts).
// Median of 3 process spawns each, interleaved with bare `node -e 0` (what Node itself
// costs on this machine) and `npx onnxpress --version`, which adds npm's own start-up
// (`npx -c true` shows that part alone).
// npm run bench:startup
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packAndInstall } from '../test/helpers/pack.js';
import { printTable } from './helpers.js';

const ROUNDS = 3;
const pkg = packAndInstall();
try {
  const bin = join(pkg.app, 'node_modules/onnxpress/bin/onnxpress.js');
  const cases: Record<string, [string, string[]]> = {
    'node bin/onnxpress.js --version': [process.execPath, [bin, '--version']],
    'node bin/onnxpress.js --help': [process.execPath, [bin, '--help']],
    'npx onnxpress --version': ['npx', ['onnxpress', '--version']],
    'npx -c true (npm alone)': ['npx', ['-c', 'true']],
    'node -e 0 (Node alone)': [process.execPath, ['-e', '0']],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, [cmd, args]] of Object.entries(cases)) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(cmd, args, { cwd: pkg.app, encoding: 'utf8' });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
      times[name]!.push(ms);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  printTable(`Start-up of the installed package, median of ${ROUNDS} spawns (ms), interleaved`,
    Object.entries(times).map(([command, xs]) => ({ command, medianMs: +median(xs).toFixed(1), runsMs: xs.map((x) => +x.toFixed(1)).join(' ') })));
} finally {
  pkg.remove();
}
