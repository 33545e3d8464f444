// onnxruntime-web's WebAssembly backend, run in Node: the browser target's kernels,
// single-threaded, for `--backend wasm`. The only file that imports onnxruntime-web.
import * as ort from 'onnxruntime-web';
import { OnnxpressError } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { serializeModel } from '../onnx/save.js';
import type { HostTensor, Session } from './ort.js';

export async function openWebSession(source: string | Uint8Array | Model): Promise<Session> {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  let session: ort.InferenceSession;
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
      const inputs: Record<string, ort.Tensor> = {};
      for (const [k, t] of Object.entries(feeds)) inputs[k] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
      let result: ort.InferenceSession.ReturnType;
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
