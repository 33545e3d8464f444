// onnxruntime-web's WebAssembly backend, run in Node: the browser target's kernels,
// single-threaded, for `--backend wasm`. The only file that imports onnxruntime-web, and
// only when asked: it is an optional peer dependency, so a user who never runs the wasm
// backend need not install it.
import type * as OrtWeb from 'onnxruntime-web';
import { OnnxpressError } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { serializeModel } from '../onnx/save.js';
import type { HostTensor, Session } from './ort.js';

let loaded: Promise<typeof OrtWeb> | undefined;

function loadOrtWeb(): Promise<typeof OrtWeb> {
  loaded ??= import('onnxruntime-web').catch((err: unknown) => {
    loaded = undefined;
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes("'onnxruntime-web'")) {
      throw new OnnxpressError('UNSUPPORTED', "the wasm backend needs the package onnxruntime-web: npm install onnxruntime-web");
    }
    throw new OnnxpressError('RUNTIME', `onnxruntime-web cannot be loaded: ${(err as Error).message.split('\n')[0]}`);
  });
  return loaded;
}

export async function openWebSession(source: string | Uint8Array | Model): Promise<Session> {
  const ort = await loadOrtWeb();
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  let session: OrtWeb.InferenceSession;
  try {
    const bytes = typeof source === 'string' || source instanceof Uint8Array ? source : serializeModel(source);
    session = await ort.InferenceSession.create(bytes as Uint8Array, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  } catch (err) {
    throw new OnnxpressError('RUNTIME', `onnxruntime-web cannot load the model: ${(err as Error).message.split('\n')[0]}`);
  }
  const metadata = (session as unknown as { inputMetadata?: { type?: string; shape?: (number | string)[] }[] }).inputMetadata ?? [];
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputs: session.inputNames.map((name, i) => ({ name, type: metadata[i]?.type ?? 'float32', dims: metadata[i]?.shape ?? [] })),
    async run(feeds: Record<string, HostTensor>, outputNames?: string[]) {
      const inputs: Record<string, OrtWeb.Tensor> = {};
      for (const [k, t] of Object.entries(feeds)) inputs[k] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
      let result: OrtWeb.InferenceSession.ReturnType;
      try {
        result = outputNames ? await session.run(inputs, outputNames) : await session.run(inputs);
      } catch (err) {
        throw new OnnxpressError('RUNTIME', `onnxruntime-web failed to run the model: ${(err as Error).message.split('\n')[0]}`);
      }
      const out: Record<string, HostTensor> = {};
      for (const [k, v] of Object.entries(result)) out[k] = { type: v.type, dims: [...v.dims], data: v.data as ArrayBufferView };
      return out;
    },
    release: () => session.release(),
  };
}
