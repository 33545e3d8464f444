#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build` and on `npm pack`). In a clone
// that has not been built, falls back to the TypeScript sources through tsx, a dev
// dependency; without either it says how to get one.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

// `onnxpress passes | head`: a closed pipe ends the output, it is not an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw err; });

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = `${root}dist/src/cli.js`;
let cli;
if (existsSync(compiled)) {
  cli = await import(pathToFileURL(compiled).href);
} else {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write(`onnxpress: ${compiled} is missing: run \`npm run build\` (or \`npm ci\` for the dev fallback through tsx)\n`);
    process.exit(3);
  }
  tsx.register();
  cli = await import(pathToFileURL(`${root}src/cli.ts`).href);
}
process.exitCode = await cli.main(process.argv.slice(2));
