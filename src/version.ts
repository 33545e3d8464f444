// The tool's name and version, read from package.json so the CLI, reports and the
// package agree. Small on purpose: `onnxpress --version` loads only this and commander.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function readOwnPackageVersion(): string {
  // src/version.ts runs from src/ (tsx) and from dist/src/ (the package): walk up to the
  // package.json named onnxpress rather than hard-code either depth.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'onnxpress' && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  throw new Error('onnxpress: package.json not found beside the installed code');
}

export const TOOL_VERSION: string = readOwnPackageVersion();

/** 'onnxpress 0.1.0': what reports record as the tool that wrote them. */
export function toolName(): string {
  return `onnxpress ${TOOL_VERSION}`;
}
