// Reading tensors stored in external files. Model files are untrusted: a location
// may not leave the model's folder (no absolute paths, no '..', no symlink out),
// and offset/length are checked against the file before anything is allocated.
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { badModel } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { rawByteLength } from '../ir/dtype.js';
import type { Tensor } from '../ir/tensor.js';

/** Resolves `location` inside `baseDir`, or explains why it may not be read. */
export function safeExternalPath(modelFile: string, baseDir: string, location: string): string {
  if (!location) throw badModel(modelFile, 'an external tensor has no location');
  if (isAbsolute(location) || /^[a-zA-Z]:[\\/]/.test(location)) {
    throw badModel(modelFile, `external data location '${location}' is absolute; it must be relative to the model's folder`);
  }
  const full = resolve(baseDir, location);
  const rel = relative(baseDir, full);
  if (rel.startsWith('..') || isAbsolute(rel)) throw badModel(modelFile, `external data location '${location}' points outside the model's folder`);
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    throw badModel(modelFile, `external data file '${location}' is missing`);
  }
  const realBase = realpathSync(baseDir);
  if (real !== realBase && !real.startsWith(realBase + sep)) {
    throw badModel(modelFile, `external data location '${location}' resolves outside the model's folder`);
  }
  return real;
}

/** Reads every external tensor's bytes into memory, one open per file. */
export function loadExternalData(model: Model, modelFile: string, baseDir: string): string[] {
  const byFile = new Map<string, Tensor[]>();
  for (const t of model.tensors()) {
    if (!t.external) continue;
    const path = safeExternalPath(modelFile, baseDir, t.external.location);
    const list = byFile.get(path);
    if (list) list.push(t);
    else byFile.set(path, [t]);
  }
  for (const [path, tensors] of byFile) {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      for (const t of tensors) readOne(fd, size, t, modelFile);
    } finally {
      closeSync(fd);
    }
  }
  // Paths are real (symlinks resolved), so report them relative to the real folder.
  const realBase = realpathSync(baseDir);
  return [...byFile.keys()].map((p) => relative(realBase, p) || p);
}

function readOne(fd: number, fileSize: number, t: Tensor, modelFile: string): void {
  const ext = t.external!;
  const want = rawByteLength(t.dataType, t.elementCount);
  const length = ext.length >= 0 ? ext.length : (want ?? fileSize - ext.offset);
  if (!Number.isSafeInteger(ext.offset) || ext.offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw badModel(modelFile, `tensor ${t.describe()} has an invalid external offset/length`);
  }
  if (ext.offset + length > fileSize) {
    throw badModel(modelFile, `tensor ${t.describe()} wants bytes ${ext.offset}..${ext.offset + length} of '${ext.location}', which has only ${fileSize}`);
  }
  if (want !== undefined && length !== want) {
    throw badModel(modelFile, `tensor ${t.describe()} declares ${want} bytes but its external data holds ${length}`);
  }
  const bytes = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, bytes, done, Math.min(length - done, 1 << 30), ext.offset + done);
    if (n <= 0) throw badModel(modelFile, `external data '${ext.location}' ended early`);
    done += n;
  }
  t.data = { kind: 'raw', bytes };
}

