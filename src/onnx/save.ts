// IR -> bytes -> file. Files appear whole or not at all: each is written to a temp
// name beside its target and renamed into place; a failure removes the temps.
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OnnxpressError } from '../errors.js';
import type { Model } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { PROTOBUF_LIMIT_BYTES } from './load.js';
import { refuseOverwritingInputs } from './output-guard.js';
import { encodeModelProto } from './schema.js';
import { modelToProto, type ExternalPlacer } from './to-proto.js';

export interface SaveOptions {
  /**
   * Where initializer weights go: a file name next to the model (external data), or
   * false to keep every tensor inside the model. When unset, weights go external only
   * if the model had external data or would pass protobuf's 2 GiB limit.
   */
  externalData?: string | false;
  /** Tensors smaller than this stay inline when saving external data (default 1024). */
  sizeThresholdBytes?: number;
  /** Weights past this many bytes go external automatically (default: protobuf's 2 GiB less headroom). */
  inlineLimitBytes?: number;
}

export interface SaveResult {
  file: string;
  fileBytes: number;
  externalFile?: string;
  externalBytes: number;
}

/** Tensors of at least 1 MiB start on a 4 KiB boundary, so runtimes can map them. */
const ALIGN_THRESHOLD_BYTES = 1 << 20;
const ALIGN_BYTES = 4096;
/** Leave room for the graph itself when deciding whether inline weights still fit. */
const INLINE_HEADROOM_BYTES = 64 << 20;

export function serializeModel(model: Model, placer?: ExternalPlacer): Uint8Array {
  return encodeModelProto(modelToProto(model, placer));
}

export function saveModel(model: Model, file: string, options: SaveOptions = {}): SaveResult {
  const target = resolve(file);
  const dir = dirname(target);
  const threshold = options.sizeThresholdBytes ?? 1024;
  const dataName = chooseExternalFile(model, target, options);
  // A model never overwrites the files it was read from (loaded, edited, saved in place).
  refuseOverwritingInputs({ file, externalData: dataName ?? false }, model);
  const temps: string[] = [];
  try {
    mkdirSync(dir, { recursive: true });
    let externalBytes = 0;
    let placer: ExternalPlacer | undefined;
    let dataTemp: string | undefined;
    if (dataName) {
      dataTemp = tempName(join(dir, dataName));
      temps.push(dataTemp);
      const placed = writeExternalData(model, dataTemp, threshold);
      externalBytes = placed.bytes;
      placer = (t) => {
        const at = placed.offsets.get(t);
        return at ? { location: dataName, offset: at.offset, length: at.length } : undefined;
      };
    }
    const bytes = serializeModel(model, placer);
    const modelTemp = tempName(target);
    temps.push(modelTemp);
    writeFileSync(modelTemp, bytes);
    if (dataTemp) renameSync(dataTemp, join(dir, dataName!));
    renameSync(modelTemp, target);
    return { file: target, fileBytes: bytes.byteLength, externalFile: dataName || undefined, externalBytes };
  } catch (err) {
    for (const t of temps) rmSync(t, { force: true });
    if (err instanceof OnnxpressError) throw err;
    throw new OnnxpressError('IO', `${file}: cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function chooseExternalFile(model: Model, target: string, options: SaveOptions): string | undefined {
  if (options.externalData === false) {
    if (inlineSizeEstimate(model) > PROTOBUF_LIMIT_BYTES) {
      throw new OnnxpressError('BAD_INPUT', `${target}: weights pass 2 GiB and cannot be stored inline; save with external data`);
    }
    return undefined;
  }
  if (typeof options.externalData === 'string') {
    if (options.externalData.includes('/') || options.externalData.includes('\\')) {
      throw new OnnxpressError('BAD_INPUT', `external data file '${options.externalData}' must be a plain file name; it is written beside the model`);
    }
    return options.externalData;
  }
  const hadExternal = [...model.tensors()].some((t) => t.external);
  const limit = options.inlineLimitBytes ?? PROTOBUF_LIMIT_BYTES - INLINE_HEADROOM_BYTES;
  if (hadExternal || inlineSizeEstimate(model) > limit) {
    return `${basename(target)}.data`;
  }
  return undefined;
}

function inlineSizeEstimate(model: Model): number {
  let n = 0;
  for (const t of model.tensors()) n += t.byteLength;
  return n;
}

/** Writes every initializer at or above the threshold into one file, in model order. */
function writeExternalData(model: Model, file: string, threshold: number) {
  const offsets = new Map<Tensor, { offset: number; length: number }>();
  const fd = openSync(file, 'w');
  let offset = 0;
  try {
    for (const g of model.graphs()) {
      for (const t of g.initializers.values()) {
        if (t.data.kind === 'string_data' || t.byteLength < threshold) continue;
        const bytes = t.rawBytes();
        if (bytes.byteLength >= ALIGN_THRESHOLD_BYTES && offset % ALIGN_BYTES) {
          const pad = ALIGN_BYTES - (offset % ALIGN_BYTES);
          writeAll(fd, new Uint8Array(pad));
          offset += pad;
        }
        writeAll(fd, bytes);
        offsets.set(t, { offset, length: bytes.byteLength });
        offset += bytes.byteLength;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { offsets, bytes: offset };
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, 1 << 30));
}

function tempName(target: string): string {
  return `${target}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
}
