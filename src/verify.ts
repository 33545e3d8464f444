// `verifyLock`: reproduces a compress run from its lock. It checks the inputs are the locked
// ones (hashes) and says which tool versions changed, rebuilds the model with only the locked
// recipe and float nodes (so a latency-based choice cannot pick another candidate), checks the
// bytes match, and re-runs the gate to see whether the verdict still holds.
import { loadSlices } from './runtime/slices.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { compressModel, type CompressData } from './compress.js';
import { gateModels } from './gate.js';
import { loadModel } from './onnx/load.js';
import { saveModel } from './onnx/save.js';
import type { Model } from './ir/graph.js';
import { openSession } from './runtime/ort.js';
import { generateSamples, loadLabels, loadSamples } from './runtime/samples.js';
import { inputDifferences, lockPath, readLock, sha256File, type Lock, type LockDifference } from './lock.js';
import type { CompressReport } from './report/build.js';
import { TOOL_VERSION } from './version.js';
import { findTarget } from './targets/index.js';

export interface VerifyOptions {
  /** Timed runs per model for the gate (default: the locked count). */
  benchRuns?: number;
  log?: (line: string) => void;
}

export interface VerifyResult {
  lock: Lock;
  /** Input files whose hash changed (these make `ok` false). */
  inputs: LockDifference[];
  /** Changed onnxpress, onnxruntime or Node versions: reported, they do not make `ok` false. */
  versions: LockDifference[];
  /** Rebuilt output files whose hash differs from the locked one. */
  bytes: LockDifference[];
  verdict: { expected: Lock['verdict']; found: Lock['verdict']; same: boolean };
  gate: CompressReport;
  /** Same inputs, same bytes, same verdict. */
  ok: boolean;
}

/** The samples a lock's run read: the same folder, count, shapes and image options, or the same seed. */
export async function loadLockedData(lockFile: string, lock: Lock, model: Model): Promise<CompressData> {
  const spec = lock.options.data;
  const shapes = { dimOverrides: spec.dimOverrides, shapeOverrides: spec.shapeOverrides };
  const session = await openSession(model);
  const specs = session.inputs;
  await session.release();
  if (!spec.dir) return { samples: generateSamples(specs, spec.samples, spec.seed, shapes), generated: true };
  const loaded = loadSamples(lockPath(lockFile, spec.dir), specs, { limit: spec.samples, ...shapes, image: spec.image });
  const labels = spec.labels ? loadLabels(lockPath(lockFile, spec.labels), loaded.ids) : undefined;
  const slices = spec.slices ? loadSlices(lockPath(lockFile, spec.slices), loaded.ids, lockPath(lockFile, spec.dir)) : undefined;
  return { samples: loaded.samples, labels, slices, generated: false };
}

/** What `gate --lock` checks: the locked original and output, on the locked data, with the locked tolerances and target. */
export async function gateLocked(lockFile: string, lock: Lock, options: { benchRuns?: number; original?: Model; candidate?: Model; data?: CompressData } = {}): Promise<CompressReport> {
  const original = options.original ?? loadModel(lockPath(lockFile, lock.input.model.path));
  const candidateFile = lockPath(lockFile, lock.output.model.path);
  const candidate = options.candidate ?? loadModel(candidateFile);
  const data = options.data ?? await loadLockedData(lockFile, lock, original);
  return gateModels(original, lock.input.model.path, candidate, lock.output.model.path, {
    tolerances: lock.options.tolerances, target: lock.options.target, data, benchRuns: options.benchRuns ?? lock.options.benchRuns,
  });
}

export async function verifyLock(lockFile: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const log = options.log ?? (() => {});
  const lock = readLock(lockFile);
  const { files: inputs, versions } = inputDifferences(lockFile, lock, TOOL_VERSION);
  const original = loadModel(lockPath(lockFile, lock.input.model.path));
  const data = await loadLockedData(lockFile, lock, original);
  log(`rebuilding ${lock.chosen.recipe}${lock.chosen.keptInFloat.length ? ` with ${lock.chosen.keptInFloat.length} node(s) in float` : ''}${lock.chosen.widened?.length ? ` with ${lock.chosen.widened.length} tensor(s) in 16-bit` : ''}`);
  // A lock that names no calibration method for an int8-static recipe predates recording it:
  // that build calibrated with minmax, the default then (auto is now, and would choose anew).
  const recipe = findTarget(lock.options.target).recipes.find((r) => r.name === lock.chosen.recipe);
  const method = lock.chosen.method ?? (recipe?.quantize.mode === 'int8-static' ? 'minmax' : undefined);
  const { model } = await compressModel(original, lock.input.model.path, {
    target: lock.options.target, tolerances: lock.options.tolerances, data, benchRuns: lock.options.benchRuns,
    rebuild: { recipe: lock.chosen.recipe, keptInFloat: lock.chosen.keptInFloat, widened: lock.chosen.widened ?? [], ...(method ? { method } : {}) }, log,
  });
  // Saved under the locked name, so an external-data file gets the name the lock recorded.
  const dir = mkdtempSync(join(tmpdir(), 'onnxpress-verify-'));
  const bytes: LockDifference[] = [];
  try {
    const saved = saveModel(model!, join(dir, basename(lock.output.model.path)));
    const rebuilt = [saved.file, ...(saved.externalFile ? [join(dir, saved.externalFile)] : [])];
    const locked = [lock.output.model, ...lock.output.externalData];
    for (let i = 0; i < Math.max(rebuilt.length, locked.length); i++) {
      const expected = locked[i]?.sha256 ?? 'no file';
      const found = rebuilt[i] ? sha256File(rebuilt[i]!) : 'no file';
      if (expected !== found) bytes.push({ what: `output ${locked[i]?.path ?? basename(rebuilt[i]!)}`, expected, found });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  log('gating the rebuilt model');
  const gate = await gateLocked(lockFile, lock, { benchRuns: options.benchRuns, original, candidate: model, data });
  const found = { pass: gate.verdict.pass, failed: gate.verdict.failed.map((c) => c.metric) };
  const same = found.pass === lock.verdict.pass && [...found.failed].sort().join() === [...lock.verdict.failed].sort().join();
  return {
    lock, inputs, versions, bytes, gate,
    verdict: { expected: lock.verdict, found, same },
    ok: inputs.length === 0 && bytes.length === 0 && same,
  };
}
