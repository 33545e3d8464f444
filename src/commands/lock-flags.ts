// The CLI side of the lock: the data options compress read, as the lock records them, and
// `gate --lock`, which takes the original, candidate, data, target and tolerances from a lock.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DataFlags, LoadedData } from './data-flags.js';
import { imageOptionsOf, shapeOptionsOf } from './data-flags.js';
import { printJson } from './command.js';
import { parseNumber } from './parse.js';
import { buildLock, inputDifferences, LOCK_FILE, lockPath, readLock, sha256File, writeLock, type LockInput, type LockedDataSpec } from '../lock.js';
import { gateLocked } from '../verify.js';
import { renderJunit } from '../report/junit.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderText } from '../report/text.js';
import { writeFileAtomic, writeReports } from '../report/write.js';
import { TOOL_VERSION } from '../version.js';
import { loadModel } from '../onnx/load.js';
import { refuseOverwritingInputs } from '../onnx/output-guard.js';
import { badInput } from '../errors.js';

/** How compress read its samples: the folder and labels file readData used, count, seed, shapes, image options. */
export function lockedDataSpec(f: DataFlags, dataDir: string | undefined, data: LoadedData): LockedDataSpec {
  const image = imageOptionsOf(f);
  const hasImage = Object.values(image).some((v) => v !== undefined);
  return {
    dir: dataDir, labels: data.labelsSource?.file, ...(f.slices ? { slices: f.slices } : {}),
    samples: parseNumber('--samples', f.samples ?? '100', { min: 1 }), seed: parseNumber('--seed', f.seed ?? '1'),
    ...shapeOptionsOf(f), ...(hasImage ? { image } : {}),
  };
}

/** Writes onnxpress.lock.json beside the output; returns its path. */
export function writeLockBeside(outputFile: string, input: Omit<LockInput, 'lockFile' | 'toolVersion'>): string {
  const lockFile = join(dirname(outputFile), LOCK_FILE);
  writeLock(lockFile, buildLock({ ...input, lockFile, toolVersion: TOOL_VERSION }));
  return lockFile;
}

type GateFlags = { extra?: boolean; junit?: string; markdown?: string; report?: string; json?: boolean };

/** `gate --lock FILE`: the locked original and output, data, target and tolerances, timed with the locked runs. */
export async function gateFromLock(lockFile: string, f: GateFlags, setExitCode: (code: number) => void): Promise<void> {
  // The lock is the whole configuration: models or a config beside it would be ignored, so they are refused.
  if (f.extra) throw badInput('gate --lock takes the models, data, target and tolerances from the lock: give the lock or models and --config, not both');
  const lock = readLock(lockFile);
  // The gate judges the files as they are now; one that changed since the lock is worth a line.
  const outputFile = lockPath(lockFile, lock.output.model.path);
  if (!existsSync(outputFile)) throw badInput(`${lockFile}: output ${lock.output.model.path} is missing`);
  const output = { what: `output ${lock.output.model.path}`, expected: lock.output.model.sha256, found: sha256File(outputFile) };
  const changed = [...inputDifferences(lockFile, lock, TOOL_VERSION).files, ...(output.found === output.expected ? [] : [output])];
  for (const d of changed) {
    process.stderr.write(`warning: ${d.what} changed since the lock (sha256 ${d.expected.slice(0, 12)}... -> ${d.found.slice(0, 12)}...)\n`);
  }
  const original = loadModel(lockPath(lockFile, lock.input.model.path));
  const candidate = loadModel(outputFile);
  for (const file of [f.junit, f.markdown]) if (file) refuseOverwritingInputs({ file, externalData: false }, [original, candidate]);
  const report = await gateLocked(lockFile, lock, { original, candidate });
  if (f.junit) writeFileAtomic(f.junit, renderJunit(`onnxpress gate ${lock.output.model.path}`, report.verdict));
  if (f.markdown) writeFileAtomic(f.markdown, renderMarkdown(report));
  if (f.report) writeReports(f.report, report);
  if (f.json) printJson(report);
  else process.stdout.write(renderText(report) + '\n');
  setExitCode(report.verdict.pass ? 0 : 1);
}
