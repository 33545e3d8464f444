// onnxpress.lock.json: what a compress run read, chose and wrote, so that the same artifact
// and verdict can be reproduced later and on another machine. Hashes pin every input file
// (the model, its external data, each data file); versions pin the tools; the decisions say
// what was quantized, pruned or kept in float, and why.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { badInput } from './errors.js';
import type { Model } from './ir/graph.js';
import type { ShapeOverrides } from './runtime/input-shapes.js';
import type { ImageOptions } from './runtime/data/images.js';
import { sourceFiles } from './onnx/output-guard.js';
import type { CompressResult } from './compress.js';
import { CALIBRATION_METHODS, type CalibrationMethod } from './quantize/calibrate.js';
import type { Tolerances } from './verdict.js';
import { writeFileAtomic } from './report/write.js';

export const LOCK_VERSION = 1;
export const LOCK_FILE = 'onnxpress.lock.json';

export interface LockedFile { path: string; sha256: string; bytes: number }

/** Where the samples came from and how they were read: enough to read the same ones again. */
export interface LockedDataSpec extends ShapeOverrides {
  /** The samples folder; absent when inputs were generated from `seed`. */
  dir?: string;
  labels?: string;
  /** The slices file (--slices), when per-slice figures were asked for. */
  slices?: string;
  /** At most this many samples were read. */
  samples: number;
  seed: number;
  image?: ImageOptions;
}

export interface LockOptions {
  target: string;
  /** As the user gave them: the target's defaults are the tool's, and a newer tool may change them. */
  tolerances: Tolerances;
  data: LockedDataSpec;
  benchRuns: number;
  fallback: boolean;
}

export interface LockedFiles { model: LockedFile; externalData: LockedFile[] }

export interface NodeDecision { node: string; opType?: string; action: 'pruned' | 'not pruned' | 'quantized' | 'kept in float' | '16-bit activation' | 'left in float'; reason?: string }

export interface Lock {
  lockVersion: number;
  tool: { name: string; version: string; onnxruntime: string; node: string };
  command: 'compress';
  /** The options as the library took them (paths relative to the lock's folder). */
  options: LockOptions;
  /** The only seed a run takes; the bootstrap intervals and samplers use seeds fixed in the code. */
  seeds: { generatedInputs: number };
  input: LockedFiles;
  data: LockedFile[];
  output: LockedFiles;
  /** The recipe the written model was built with, the nodes the accuracy fallback kept in float and the activations it widened to 16 bits. */
  chosen: { recipe: string; keptInFloat: string[]; widened?: string[]; method?: CalibrationMethod; passed: boolean };
  verdict: { pass: boolean; failed: string[] };
  /** What each step did (prune, quantize), in order. */
  steps: string[];
  /** Per-node decisions: what was pruned (or not), quantized, kept or left in float, and why. */
  decisions: NodeDecision[];
  /** Every candidate tried and how it fared, so a later run's different choice can be explained. */
  candidates: { recipe: string; pass: boolean; failed: string[] }[];
  notBuilt: { recipe: string; reason: string }[];
}

export interface LockInput {
  /** Where the lock goes; every path in it is relative to its folder. */
  lockFile: string;
  /** The original as loaded from its file (its external data is found through it). */
  original: Model;
  /** The written output: the model file and any external-data file beside it. */
  output: { file: string; externalFile?: string };
  /** Options with paths as the caller gave them (relative to the working folder or absolute). */
  options: LockOptions;
  result: CompressResult;
  toolVersion: string;
}

/** The lock of a compress run: deterministic for the same inputs (no times, sorted files). */
export function buildLock(input: LockInput): Lock {
  const dir = dirname(resolve(input.lockFile));
  const rel = (p: string) => relative(dir, resolve(p)) || '.';
  const { options, result } = input;
  const [modelFile, ...external] = sourceFiles(input.original).map((f) => f.path);
  if (!modelFile) throw badInput('original: the model was not read from a file, so the lock cannot pin it');
  const outDir = dirname(resolve(input.output.file));
  const outputs = [input.output.file, ...(input.output.externalFile ? [join(outDir, input.output.externalFile)] : [])].map((f) => resolve(f));
  // An output written into the data folder, or a lock an earlier run left there, is not data.
  const notData = new Set([...outputs, resolve(input.lockFile)]);
  const data = options.data.dir ? dataFiles(options.data.dir).filter((f) => !notData.has(resolve(f))) : [];
  for (const extra of [options.data.labels, options.data.slices]) if (extra && !data.some((f) => resolve(f) === resolve(extra))) data.push(extra);
  const report = result.report;
  const written = report.candidates[result.written.candidate]!;
  return {
    lockVersion: LOCK_VERSION,
    tool: versions(input.toolVersion),
    command: 'compress',
    options: { ...options, data: { ...options.data, dir: options.data.dir && rel(options.data.dir), labels: options.data.labels && rel(options.data.labels), slices: options.data.slices && rel(options.data.slices) } },
    seeds: { generatedInputs: options.data.seed },
    input: { model: lockedFile(modelFile, dir), externalData: external.sort().map((f) => lockedFile(f, dir)) },
    data: data.map((f) => lockedFile(f, dir)),
    output: { model: lockedFile(outputs[0]!, dir), externalData: outputs.slice(1).map((f) => lockedFile(f, dir)) },
    chosen: { recipe: result.written.recipe, keptInFloat: result.written.keptInFloat, ...(result.written.widened?.length ? { widened: result.written.widened } : {}), ...(result.written.method ? { method: result.written.method } : {}), passed: report.chosen !== null },
    verdict: { pass: report.verdict.pass, failed: report.verdict.failed.map((c) => c.metric) },
    steps: written.steps,
    decisions: [
      ...result.written.pruned.layers.map((l): NodeDecision => ({ node: l.name, opType: l.opType, action: 'pruned', reason: pruneDetail(l) })),
      ...result.written.pruned.skipped.map((l): NodeDecision => ({ node: l.name, action: 'not pruned', reason: l.reason })),
      ...(result.model ? quantizedNodes(result.model) : []),
      ...written.keptInFloat.map((node): NodeDecision => ({ node, action: 'kept in float', reason: 'accuracy fallback: among the nodes where the quantization error entered most' })),
      ...written.widened.map((node): NodeDecision => ({ node, action: '16-bit activation', reason: 'accuracy fallback: among the activations whose int8 quantization alone hurt the outputs most' })),
      // A node the fallback kept in float is also one quantize left in float ('excluded'): said once.
      ...written.leftInFloat.filter((l) => !written.keptInFloat.includes(l.node)).map((l): NodeDecision => ({ node: l.node, opType: l.opType, action: 'left in float', reason: l.reason })),
    ],
    candidates: report.candidates.map((c) => ({ recipe: c.recipe, pass: c.verdict.pass, failed: c.verdict.failed.map((f) => f.metric) })),
    notBuilt: report.notBuilt,
  };
}

export function writeLock(file: string, lock: Lock): void {
  writeFileAtomic(file, JSON.stringify(lock, null, 2) + '\n');
}

function pruneDetail(l: CompressResult['written']['pruned']['layers'][number]): string {
  if (l.channels !== undefined && l.kept !== undefined) return `kept ${l.kept} of ${l.channels} channels`;
  return l.sparsity !== undefined ? `sparsity ${l.sparsity.toFixed(4)}` : 'pruned';
}

/** Integer ops, and ops fed through DequantizeLinear (QDQ): the nodes that run quantized. */
function quantizedNodes(model: Model): NodeDecision[] {
  const dequantized = new Set(model.graph.nodes.filter((n) => n.opType === 'DequantizeLinear').flatMap((n) => n.outputs));
  const integerOp = (op: string) => /^(QLinear|MatMulInteger|ConvInteger|MatMulNBits|DynamicQuantize)/.test(op);
  const isQdq = (op: string) => op === 'QuantizeLinear' || op === 'DequantizeLinear' || op === 'DynamicQuantizeLinear';
  return model.graph.nodes
    .filter((n) => !isQdq(n.opType) && (integerOp(n.opType) || n.inputs.some((i) => dequantized.has(i))))
    .map((n) => ({ node: n.name ?? n.outputs[0]!, opType: n.opType, action: 'quantized' as const }));
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
  if (typeof lock !== 'object' || lock === null || typeof lock.lockVersion !== 'number') throw badInput(`${file}: not an onnxpress lock (no lockVersion)`);
  // Before the shape: a newer lock may be laid out differently, and the fix is to upgrade.
  if (lock.lockVersion > LOCK_VERSION) throw badInput(`${file}: lock version ${lock.lockVersion} was written by a newer onnxpress (this one reads up to ${LOCK_VERSION}); upgrade onnxpress`);
  const missing = missingFields(lock);
  if (missing) throw badInput(`${file}: not an onnxpress lock (${missing} missing or malformed)`);
  return lock as Lock;
}

/** The first field verify relies on that a lock lacks, if any. */
function missingFields(lock: Partial<Lock>): string | undefined {
  const isFile = (f: unknown) => typeof f === 'object' && f !== null && typeof (f as LockedFile).path === 'string' && typeof (f as LockedFile).sha256 === 'string';
  const files = (x: { model: unknown; externalData: unknown } | undefined) => Boolean(x && isFile(x.model) && Array.isArray(x.externalData) && x.externalData.every(isFile));
  const checks: [string, boolean][] = [
    ['tool', typeof lock.tool === 'object' && lock.tool !== null],
    ['input', files(lock.input)],
    ['output', files(lock.output)],
    ['data', Array.isArray(lock.data) && lock.data.every(isFile)],
    ['options', typeof lock.options?.target === 'string' && typeof lock.options.data === 'object' && typeof lock.options.tolerances === 'object'],
    ['chosen', typeof lock.chosen?.recipe === 'string' && Array.isArray(lock.chosen.keptInFloat) && (lock.chosen.method === undefined || CALIBRATION_METHODS.includes(lock.chosen.method))],
    ['verdict', typeof lock.verdict?.pass === 'boolean' && Array.isArray(lock.verdict.failed)],
  ];
  return checks.find(([, ok]) => !ok)?.[0];
}

/** A path recorded in the lock, resolved against the lock's folder. */
export function lockPath(lockFile: string, recorded: string): string {
  return isAbsolute(recorded) ? recorded : resolve(dirname(lockFile), recorded);
}

export interface LockDifference { what: string; expected: string; found: string }

/** Input files and tool versions that no longer match the lock. Missing files are bad input. */
export function inputDifferences(lockFile: string, lock: Lock, toolVersion: string): { files: LockDifference[]; versions: LockDifference[] } {
  const diffs: LockDifference[] = [];
  const versionDiffs: LockDifference[] = [];
  const files = [{ kind: 'model', f: lock.input.model }, ...lock.input.externalData.map((f) => ({ kind: 'external data', f })), ...lock.data.map((f) => ({ kind: 'data file', f }))];
  for (const { kind, f } of files) {
    const p = lockPath(lockFile, f.path);
    if (!existsSync(p)) throw badInput(`${lockFile}: ${kind} ${f.path} is missing (expected sha256 ${f.sha256.slice(0, 12)}...)`);
    const sha = sha256File(p);
    if (sha !== f.sha256) diffs.push({ what: `${kind} ${f.path}`, expected: f.sha256, found: sha });
  }
  const now = versions(toolVersion);
  for (const k of ['version', 'onnxruntime', 'node'] as const) {
    if (lock.tool[k] !== now[k]) versionDiffs.push({ what: k === 'version' ? 'onnxpress version' : `${k} version`, expected: lock.tool[k], found: now[k] });
  }
  return { files: diffs, versions: versionDiffs };
}
