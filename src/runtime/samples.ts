// Model inputs from disk or from a seeded generator. A folder of samples holds, for a
// single-input model, one file per sample (.npy, ONNX TensorProto .pb, PNG/JPEG, JSON);
// for several inputs, a sub-folder per input name with matching file names; or the
// test_data_set_N/input_K.pb layout of the ONNX test suite.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { badInput } from '../errors.js';
import { float32ToFloat16 } from '../ir/float-formats.js';
import type { HostTensor } from './ort.js';
import { parseNpy } from './data/npy.js';
import { IMAGE_EXTENSIONS, readImageAt, type ImageOptions } from './data/images.js';
import { readTensorPb, toHostTensor } from './tensor-files.js';
import { checkOverrides, formatWanted, wantedDims, type ShapeOverrides } from './input-shapes.js';

export { loadLabels } from './labels.js';

export interface InputSpec {
  name: string;
  /** onnxruntime type name: 'float32', 'int64', ... */
  type: string;
  /** Numbers, symbolic names, or -1 for unknown. */
  dims: (number | string)[];
}

export type Sample = Record<string, HostTensor>;

export interface LoadSamplesOptions extends ShapeOverrides {
  image?: ImageOptions;
  /** Read at most this many samples (in file-name order). */
  limit?: number;
}

export interface LoadedSamples {
  samples: Sample[];
  /** The file (single input) or folder entry each sample came from, for labels. */
  ids: string[];
  /** What reading did to the data that a user should know (images resized, and from what). */
  notes: string[];
}

/** State of one folder read: the first image of each input, and the resizes done. */
interface ReadContext { firstImage: Map<string, { file: string; size: string; dims: number[] }>; resized: Map<string, number> }

const DATA_EXTENSIONS = ['.npy', '.pb', '.json', ...IMAGE_EXTENSIONS];
/** Files in a samples folder that describe the samples rather than being one. */
const NOT_SAMPLES = new Set(['labels.json', 'labels.csv']);
const isSampleFile = (e: string) => DATA_EXTENSIONS.includes(extname(e).toLowerCase()) && !NOT_SAMPLES.has(e.toLowerCase());

export function loadSamples(dir: string, specs: InputSpec[], options: LoadSamplesOptions = {}): LoadedSamples {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw badInput(`${dir}: not a folder of samples`);
  checkOverrides(specs, options);
  const ctx: ReadContext = { firstImage: new Map(), resized: new Map() };
  const read = (file: string, spec: InputSpec) => readOne(file, spec, options, ctx);
  const entries = readdirSync(dir).sort(naturalOrder);
  const testSets = entries.filter((e) => /^test_data_set_\d+$/.test(e));
  let result: Omit<LoadedSamples, 'notes'>;
  if (testSets.length) {
    result = { samples: [], ids: [] };
    for (const set of testSets.slice(0, options.limit)) {
      const sample: Sample = {};
      specs.forEach((spec, k) => { sample[spec.name] = read(join(dir, set, `input_${k}.pb`), spec); });
      result.samples.push(sample);
      result.ids.push(set);
    }
  } else if (specs.length === 1 && entries.some(isSampleFile)) {
    const files = entries.filter(isSampleFile).slice(0, options.limit);
    result = { samples: files.map((f) => ({ [specs[0]!.name]: read(join(dir, f), specs[0]!) })), ids: files };
  } else {
    const missing = specs.filter((s) => !existsSync(join(dir, safeFolderName(s.name))));
    if (missing.length) throw badInput(`${dir}: no sample files, and no sub-folder for input '${missing[0]!.name}' (one folder per input name when a model has several inputs)`);
    const names = readdirSync(join(dir, safeFolderName(specs[0]!.name))).filter(isSampleFile).sort(naturalOrder).slice(0, options.limit);
    result = { samples: names.map((file) => Object.fromEntries(specs.map((s) => [s.name, read(join(dir, safeFolderName(s.name), file), s)]))), ids: names };
  }
  if (result.samples.length === 0) throw badInput(`${dir}: holds no samples`);
  const notes = [...ctx.resized].map(([how, n]) => `${n} image${n > 1 ? 's' : ''} resized ${how}`);
  return { ...result, notes };
}

function safeFolderName(inputName: string): string {
  return inputName.replace(/[\\/:]/g, '_');
}

function readOne(file: string, spec: InputSpec, options: LoadSamplesOptions, ctx: ReadContext): HostTensor {
  if (!existsSync(file)) throw badInput(`input '${spec.name}': ${file} is missing`);
  const ext = extname(file).toLowerCase();
  let tensor: HostTensor;
  if (ext === '.npy') tensor = parseNpy(readFileSync(file), file);
  else if (ext === '.pb') tensor = toHostTensor(readTensorPb(file));
  else if (ext === '.json') tensor = fromJson(file, spec);
  else tensor = readImageSample(file, spec, options, ctx);
  return conform(tensor, spec, file, options);
}

/**
 * An image at the size the input wants; where the model leaves H or W free and the user
 * gave no size, at the image's own size. Images of differing sizes for free H/W are
 * refused, not resized to the first one's: the result would depend on which file sorts
 * first and would stretch the others out of their aspect ratio, silently changing what
 * accuracy and calibration measure. A demanding user wants to choose that size; one
 * flag (--shape or --dim) does it, and the message says which.
 */
function readImageSample(file: string, spec: InputSpec, options: LoadSamplesOptions, ctx: ReadContext): HostTensor {
  const image = readImageAt(file, wantedDims(spec, options), options.image);
  const own = `${image.sourceWidth}x${image.sourceHeight}`, fed = `${image.width}x${image.height}`;
  const first = ctx.firstImage.get(spec.name);
  if (!first) ctx.firstImage.set(spec.name, { file, size: fed, dims: image.tensor.dims });
  else if (image.sizeFromImage && first.size !== fed) {
    throw badInput(`input '${spec.name}' leaves the image size free (${formatWanted(spec, options)}): ${file} is ${own} but ${first.file} is ${first.size}; give one size to resize all of them to (e.g. --shape ${spec.name}=${first.dims.join('x')})`);
  }
  if (own !== fed) ctx.resized.set(`from ${own} to ${fed}`, (ctx.resized.get(`from ${own} to ${fed}`) ?? 0) + 1);
  return image.tensor;
}

function fromJson(file: string, spec: InputSpec): HostTensor {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw badInput(`${file}: not valid JSON`);
  }
  const dims: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) dims.push(v.length);
  const flat = (Array.isArray(value) ? (value as unknown[]).flat(Infinity) : [value]) as number[];
  if (flat.some((x) => typeof x !== 'number')) throw badInput(`${file}: JSON samples must be (nested) arrays of numbers`);
  const data = spec.type === 'int64' ? BigInt64Array.from(flat.map((x) => BigInt(Math.trunc(x)))) : spec.type === 'int32' ? Int32Array.from(flat) : Float32Array.from(flat);
  return { type: spec.type === 'int64' || spec.type === 'int32' ? spec.type : 'float32', dims, data };
}

/**
 * Checks dtype and shape against the input spec and the sizes the user fixed (a sample that
 * cannot fit is bad input, never reshaped); adds a leading batch dim of 1 when that is all that differs.
 */
function conform(t: HostTensor, spec: InputSpec, file: string, o: ShapeOverrides): HostTensor {
  // An image, JSON or float32 array for a float16 input (a model that computes in float16): rounded as the model would.
  if (t.type === 'float32' && spec.type === 'float16') t = { ...t, type: 'float16', data: Uint16Array.from(t.data as Float32Array, float32ToFloat16) };
  if (t.type !== spec.type) throw badInput(`input '${spec.name}': ${file} holds ${t.type}, the model expects ${spec.type}`);
  const wanted = wantedDims(spec, o);
  let dims = t.dims;
  if (dims.length === wanted.length - 1 && (wanted[0] === 1 || wanted[0] === undefined)) dims = [1, ...dims];
  const ok = dims.length === wanted.length && dims.every((d, i) => wanted[i] === undefined || wanted[i] === d);
  if (!ok) throw badInput(`input '${spec.name}': ${file} has shape [${t.dims.join(', ')}], the model expects ${formatWanted(spec, o)}`);
  return { ...t, dims };
}

/** Dims to generate an input at: the wanted dims, 1 where nothing fixes the size. */
export function concreteDims(spec: InputSpec, overrides: Record<string, number> = {}, shapes?: Record<string, number[]>): number[] {
  return wantedDims(spec, { dimOverrides: overrides, shapeOverrides: shapes }).map((d) => d ?? 1);
}

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Parses '--dim batch=1' and '--shape input=1x3x224x224' style overrides. */
export function parseDimOverrides(dims: string[] = []): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of dims) {
    const m = /^([^=]+)=(\d+)$/.exec(d);
    if (!m) throw badInput(`--dim '${d}': expected NAME=SIZE, e.g. batch=1`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function parseShapeOverrides(shapes: string[] = []): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const s of shapes) {
    const m = /^([^=]+)=(\d+(?:x\d+)*)$/.exec(s);
    if (!m) throw badInput(`--shape '${s}': expected NAME=DxDxD, e.g. input=1x3x224x224`);
    out[m[1]!] = m[2]!.split('x').map(Number);
  }
  return out;
}

/** xorshift32: the same seed gives the same samples on every machine. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

export interface GenerateOptions extends ShapeOverrides {
  /** Value range per input name, [low, high); default [0, 1) for floats and [0, 4) for ints. */
  ranges?: Record<string, [number, number]>;
}

/** `count` seeded random samples shaped by the input specs. */
export function generateSamples(specs: InputSpec[], count: number, seed: number, options: GenerateOptions = {}): Sample[] {
  checkOverrides(specs, options);
  const rand = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const sample: Sample = {};
    for (const spec of specs) {
      const dims = concreteDims(spec, options.dimOverrides, options.shapeOverrides);
      const n = dims.reduce((a, b) => a * b, 1);
      const [lo, hi] = options.ranges?.[spec.name] ?? (spec.type.startsWith('float') ? [0, 1] : [0, 4]);
      const value = () => lo + rand() * (hi - lo);
      let data: ArrayBufferView;
      switch (spec.type) {
        case 'float32': data = Float32Array.from({ length: n }, value); break;
        case 'float16': data = Uint16Array.from({ length: n }, () => float32ToFloat16(value())); break;
        case 'int64': data = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(value()))); break;
        case 'int32': data = Int32Array.from({ length: n }, () => Math.floor(value())); break;
        case 'bool': data = Uint8Array.from({ length: n }, () => (rand() < 0.5 ? 1 : 0)); break;
        case 'uint8': data = Uint8Array.from({ length: n }, () => Math.floor(value())); break;
        default: throw badInput(`input '${spec.name}': cannot generate ${spec.type} values`);
      }
      sample[spec.name] = { type: spec.type, dims, data };
    }
    return sample;
  });
}
