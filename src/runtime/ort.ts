// The one place that imports onnxruntime-node. Everything else passes HostTensors
// (plain typed arrays with dims) and asks for sessions through these functions.
import * as ort from 'onnxruntime-node';
import { OnnxpressError } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { serializeModel } from '../onnx/save.js';

/** A tensor on the host: the runtime's type name, dims and values. */
export interface HostTensor {
  type: string; // 'float32', 'int64', 'float16' (Uint16Array bits), 'bool' (Uint8Array), 'string'
  dims: number[];
  data: ArrayBufferView | string[];
}

export interface SessionOptions {
  /** Intra-op threads; default 1 so numbers do not depend on the machine. */
  threads?: number;
  /** onnxruntime's own graph optimizations; default 'disabled' so we run the graph as written. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write onnxruntime's optimized graph here (its offline optimizer). */
  optimizedModelFilePath?: string;
}

export interface Session {
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** Input specs as the runtime reports them (dims: number, symbolic name or -1). */
  inputs: { name: string; type: string; dims: (number | string)[] }[];
  run(feeds: Record<string, HostTensor>, outputNames?: string[]): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

/** Opens a session on a file path, model bytes, or an in-memory Model. */
export async function openSession(source: string | Uint8Array | Model, options: SessionOptions = {}): Promise<Session> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.threads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: options.optimization ?? 'disabled',
    // Fatal only: onnxruntime's own error lines repeat, with timestamps and colour, what the
    // OnnxpressError raised from the same failure says in one line.
    logSeverityLevel: 4,
  };
  if (options.optimizedModelFilePath) sessionOptions.optimizedModelFilePath = options.optimizedModelFilePath;
  let session: ort.InferenceSession;
  try {
    if (typeof source === 'string') session = await ort.InferenceSession.create(source, sessionOptions);
    else if (source instanceof Uint8Array) session = await ort.InferenceSession.create(source, sessionOptions);
    else session = await ort.InferenceSession.create(serializeModel(source), sessionOptions);
  } catch (err) {
    throw new OnnxpressError('RUNTIME', `onnxruntime cannot load the model: ${firstLine(err)}`);
  }
  return wrap(session);
}

function wrap(session: ort.InferenceSession): Session {
  const metadata = (session as unknown as { inputMetadata?: { name: string; isTensor: boolean; type?: string; shape?: (number | string)[] }[] }).inputMetadata ?? [];
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputs: session.inputNames.map((name, i) => {
      const m = metadata[i];
      return { name, type: m?.type ?? 'float32', dims: m?.shape ?? [] };
    }),
    async run(feeds, outputNames) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(t);
      let result: ort.InferenceSession.ReturnType;
      try {
        result = outputNames ? await session.run(ortFeeds, outputNames) : await session.run(ortFeeds);
      } catch (err) {
        throw new OnnxpressError('RUNTIME', `onnxruntime failed to run the model: ${firstLine(err)}`);
      }
      const out: Record<string, HostTensor> = {};
      for (const [name, v] of Object.entries(result)) {
        out[name] = { type: v.type, dims: [...v.dims], data: v.data as ArrayBufferView | string[] };
        v.dispose?.();
      }
      return out;
    },
    release: () => session.release(),
  };
}

function toOrt(t: HostTensor): ort.Tensor {
  return new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 300);
}

/** Runs a model once on the given feeds and releases the session. */
export async function runOnce(source: string | Uint8Array | Model, feeds: Record<string, HostTensor>, options: SessionOptions = {}): Promise<Record<string, HostTensor>> {
  const session = await openSession(source, options);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Runs a model on each sample in turn (one session) and returns the outputs in order. */
export async function runSamples(source: string | Uint8Array | Model, samples: Record<string, HostTensor>[], options: SessionOptions = {}): Promise<Record<string, HostTensor>[]> {
  const session = await openSession(source, options);
  try {
    const out: Record<string, HostTensor>[] = [];
    for (const s of samples) out.push(await session.run(s));
    return out;
  } finally {
    await session.release();
  }
}
