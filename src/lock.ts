// onnxpress.lock.json: what a compress run read, chose and wrote, so that the same artifact
// and verdict can be reproduced later and on another machine. Hashes pin every input file
// (the model, its external data, each data file); versions pin the tools; the decisions say
// what was quantized, pruned or kept in float, and why.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { badInput } from './errors.js';

export const LOCK_VERSION = 1;
export const LOCK_FILE = 'onnxpress.lock.json';

export interface LockedFile { path: string; sha256: string; bytes: number }

export interface Lock {
  lockVersion: number;
  tool: { name: string; version: string; onnxruntime: string; node: string };
  /** The command and its options, as the library took them (paths relative to the lock). */
  command: 'compress';
  options: Record<string, unknown>;
  seeds: Record<string, number>;
  input: { model: LockedFile; externalData: LockedFile[] };
  data: LockedFile[];
  output: LockedFile;
  chosen: { recipe: string; keptInFloat: string[] } | null;
  verdict: { pass: boolean; failed: string[] };
  /** Per-node decisions: what each step did to which node, and why. */
  decisions: { step: string; node: string; opType?: string; action: string; reason?: string }[];
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A file as the lock records it: its path relative to the lock's folder, hash and size. */
export function lockedFile(file: string, lockDir: string): LockedFile {
  return { path: relative(lockDir, resolve(file)) || '.', sha256: sha256File(file), bytes: statSync(file).size };
}

/** Every file under a data folder, sorted, so a changed, added or removed sample changes the lock. */
export function dataFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export function versions(toolVersion: string): Lock['tool'] {
  const require = createRequire(import.meta.url);
  let onnxruntime = 'unknown';
  try {
    onnxruntime = (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch { /* reported as unknown */ }
  return { name: 'onnxpress', version: toolVersion, onnxruntime, node: process.version };
}

/** Reads and checks a lock: one clear line for a file that is not a lock, or one from a newer onnxpress. */
export function readLock(file: string): Lock {
  if (!existsSync(file)) throw badInput(`${file}: lock file not found`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw badInput(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const lock = value as Partial<Lock>;
  if (typeof lock !== 'object' || lock === null || typeof lock.lockVersion !== 'number' || !lock.input?.model || !lock.output) throw badInput(`${file}: not an onnxpress lock (no lockVersion, input or output)`);
  if (lock.lockVersion > LOCK_VERSION) throw badInput(`${file}: lock version ${lock.lockVersion} was written by a newer onnxpress (this one reads up to ${LOCK_VERSION}); upgrade onnxpress`);
  return lock as Lock;
}

/** A path recorded in the lock, resolved against the lock's folder. */
export function lockPath(lockFile: string, recorded: string): string {
  return isAbsolute(recorded) ? recorded : resolve(dirname(lockFile), recorded);
}

export interface LockDifference { what: string; expected: string; found: string }

/** Input files and tool versions that no longer match the lock. Missing files are bad input. */
export function inputDifferences(lockFile: string, lock: Lock, toolVersion: string): LockDifference[] {
  const diffs: LockDifference[] = [];
  const files = [{ kind: 'model', f: lock.input.model }, ...lock.input.externalData.map((f) => ({ kind: 'external data', f })), ...lock.data.map((f) => ({ kind: 'data file', f }))];
  for (const { kind, f } of files) {
    const p = lockPath(lockFile, f.path);
    if (!existsSync(p)) throw badInput(`${lockFile}: ${kind} ${f.path} is missing (expected sha256 ${f.sha256.slice(0, 12)}...)`);
    const sha = sha256File(p);
    if (sha !== f.sha256) diffs.push({ what: `${kind} ${f.path}`, expected: f.sha256, found: sha });
  }
  const now = versions(toolVersion);
  for (const k of ['version', 'onnxruntime', 'node'] as const) {
    if (lock.tool[k] !== now[k]) diffs.push({ what: k === 'version' ? 'onnxpress version' : `${k} version`, expected: lock.tool[k], found: now[k] });
  }
  return diffs;
}
