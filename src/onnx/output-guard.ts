// The input model is never lost: no output may land on a model file a command read, or on
// one of that model's external-data files. Files are compared by identity (device and
// inode, after following symlinks), so './a.onnx', 'a.onnx', '../x/a.onnx', a symlink, a
// hard link or another case on a case-insensitive disk all count as the same file.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { badInput } from '../errors.js';
import type { Model } from '../ir/graph.js';

export interface OutputFiles {
  /** The model file to be written. */
  file: string;
  /**
   * The external-data file name written beside it, when known. Unset means "may be", and
   * the default name `<file>.data` is checked too: a save picks it by itself when the model
   * has external data or grows past protobuf's limit.
   */
  externalData?: string | false;
}

interface InputFile { path: string; role: string }

/** The files a loaded model came from: its .onnx and each external-data file. */
export function sourceFiles(model: Model): InputFile[] {
  const source = model.source;
  if (!source) return [];
  const file = resolve(source.file);
  let dir = dirname(file);
  try {
    dir = realpathSync(dir); // external paths are recorded relative to the real folder
  } catch {
    // the folder is gone: nothing of it can be overwritten by identity below
  }
  const data = new Set(source.externalFiles);
  for (const t of model.tensors()) if (t.external?.location) data.add(t.external.location);
  return [
    { path: file, role: `the input model ${source.file}` },
    ...[...data].map((d) => ({ path: join(dir, d), role: `'${d}', the external data of input model ${source.file}` })),
  ];
}

/** Throws a one-line BAD_INPUT error when writing `output` would overwrite a file of any `inputs` model. */
export function refuseOverwritingInputs(output: OutputFiles, inputs: Model | Model[]): void {
  const targets = [output.file];
  const dir = dirname(resolve(output.file));
  if (typeof output.externalData === 'string') targets.push(join(dir, output.externalData));
  if (output.externalData === undefined) targets.push(join(dir, `${basename(output.file)}.data`));
  const guarded = (Array.isArray(inputs) ? inputs : [inputs]).flatMap(sourceFiles);
  for (const target of targets) {
    const hit = guarded.find((g) => sameFile(target, g.path));
    if (!hit) continue;
    const what = target === output.file ? output.file : `${output.file} (its external data ${basename(target)})`;
    throw badInput(`${what}: would overwrite ${hit.role}; choose another output path`);
  }
}

function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  if (!existsSync(a) || !existsSync(b)) return false;
  const x = statSync(a), y = statSync(b);
  return x.dev === y.dev && x.ino === y.ino;
}
