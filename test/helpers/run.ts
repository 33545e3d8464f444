// Running corpus models in onnxruntime with their reference inputs, for before/after comparisons.
import { readTestDataSets } from '../../src/runtime/tensor-files.js';
import { toHostTensor } from '../../src/runtime/tensor-files.js';
import type { HostTensor } from '../../src/runtime/ort.js';
import { openSession } from '../../src/runtime/ort.js';
import type { Model } from '../../src/ir/graph.js';
import type { CorpusModel } from './corpus.js';

/** Feeds from the model's first test data set, or undefined when it has none usable. */
export function referenceFeeds(model: Model, corpus: CorpusModel): Record<string, HostTensor> | undefined {
  if (!corpus.testDataDir) return undefined;
  const inputs = model.graph.inputs.filter((i) => !model.graph.initializers.has(i.name));
  if (inputs.some((i) => !i.type?.tensor_type)) return undefined; // sequences, maps, optionals
  let sets;
  try {
    sets = readTestDataSets(corpus.testDataDir);
  } catch {
    return undefined;
  }
  const first = sets[0];
  if (!first || first.inputs.length !== inputs.length) return undefined;
  const feeds: Record<string, HostTensor> = {};
  try {
    inputs.forEach((spec, k) => { feeds[spec.name] = toHostTensor(first.inputs[k]!); });
  } catch {
    return undefined;
  }
  return feeds;
}

/** Runs a model (path, bytes or IR) once; undefined when onnxruntime refuses it. */
export async function tryRun(source: string | Uint8Array | Model, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor> | undefined> {
  let session;
  try {
    session = await openSession(source);
  } catch {
    return undefined;
  }
  try {
    return await session.run(feeds);
  } catch {
    return undefined;
  } finally {
    await session.release();
  }
}

/** Byte-wise equality of two output maps (NaN payloads included). */
export function bitIdentical(a: Record<string, HostTensor>, b: Record<string, HostTensor>): boolean {
  const keys = Object.keys(a).sort();
  if (keys.join() !== Object.keys(b).sort().join()) return false;
  for (const k of keys) {
    const x = a[k]!, y = b[k]!;
    if (x.type !== y.type || x.dims.join() !== y.dims.join()) return false;
    if (Array.isArray(x.data) || Array.isArray(y.data)) {
      if (JSON.stringify(x.data) !== JSON.stringify(y.data)) return false;
      continue;
    }
    const xb = new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength);
    const yb = new Uint8Array((y.data as ArrayBufferView).buffer, (y.data as ArrayBufferView).byteOffset, (y.data as ArrayBufferView).byteLength);
    if (Buffer.compare(Buffer.from(xb), Buffer.from(yb)) !== 0) return false;
  }
  return true;
}
