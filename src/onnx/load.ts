// bytes -> IR. Initializer bytes are views of the file buffer (zero-copy); external
// tensors are read from their files; the result is checked before it is returned.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { OnnxpressError, badModel } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { modelProblems } from '../ir/validate.js';
import { loadExternalData } from './external-data.js';
import { modelFromProto } from './from-proto.js';
import { decodeModelProto } from './schema.js';

/** Protobuf cannot encode a message of 2 GiB or more; larger models keep weights outside. */
export const PROTOBUF_LIMIT_BYTES = 2 ** 31 - 1;

export interface LoadOptions {
  /** Read external tensors into memory (default true). */
  loadExternalData?: boolean;
  /** Check structure and declared sizes (default true). */
  validate?: boolean;
}

export function loadModel(file: string, options: LoadOptions = {}): Model {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw badModel(file, 'is a folder, not an .onnx file');
    size = st.size;
  } catch (err) {
    if (err instanceof OnnxpressError) throw err;
    throw badModel(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (size === 0) throw badModel(file, 'is empty');
  if (size > PROTOBUF_LIMIT_BYTES) throw badModel(file, `is ${size} bytes, past protobuf's 2 GiB limit; such models keep their weights in external data`);
  return loadModelFromBytes(readWhole(file, size), { file, baseDir: dirname(resolve(file)), ...options });
}

export interface LoadBytesOptions extends LoadOptions {
  /** Name used in messages. */
  file?: string;
  /** Folder external data locations are relative to. */
  baseDir?: string;
}

export function loadModelFromBytes(bytes: Uint8Array, options: LoadBytesOptions = {}): Model {
  const file = options.file ?? '<bytes>';
  let model: Model;
  try {
    const proto = decodeModelProto(bytes);
    model = modelFromProto(proto);
  } catch (err) {
    throw badModel(file, `is not a valid ONNX protobuf (${shortReason(err)})`);
  }
  if (!model.graph || (model.graph.nodes.length === 0 && model.graph.outputs.length === 0)) {
    throw badModel(file, 'holds no graph: not an ONNX model, or truncated');
  }
  if (!model.irVersion || model.irVersion < 1 || model.irVersion > 64) {
    throw badModel(file, `has no plausible ir_version (${model.irVersion})`);
  }
  const validate = options.validate !== false;
  if (validate) {
    const problems = modelProblems(model, { topologicalOrder: false });
    if (problems.length) throw badModel(file, problems[0]! + (problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : ''));
  }
  let externalFiles: string[] = [];
  const hasExternal = [...model.tensors()].some((t) => t.external);
  if (hasExternal && options.loadExternalData !== false) {
    if (!options.baseDir) throw badModel(file, 'has external data but no folder to read it from');
    externalFiles = loadExternalData(model, file, options.baseDir);
  }
  let externalBytes = 0;
  for (const t of model.tensors()) if (t.external) externalBytes += t.byteLength;
  model.source = { file, fileBytes: bytes.byteLength, externalFiles, externalBytes };
  return model;
}

/** One allocation of the known size, filled by large reads (steadier than readFileSync for big files). */
function readWhole(file: string, size: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const bytes = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, bytes, done, Math.min(size - done, 1 << 30), done);
      if (n <= 0) throw badModel(file, 'changed size while being read');
      done += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

function shortReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 120);
}
