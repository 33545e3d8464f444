import { INT8_DTYPES, type TargetProfile } from './profile.js';

export const wasm: TargetProfile = {
  name: 'wasm',
  description: 'onnxruntime-web in a browser: one thread, download size weighs most',
  assumes: "onnxruntime-web's WebAssembly backend without threads (no cross-origin isolation); the model travels over the network, so the smallest candidate that meets the tolerances wins; latency is measured on the same WebAssembly kernels, run in Node.",
  recipes: [
    { name: 'int8-dynamic', quantize: { mode: 'int8-dynamic', perChannel: true } },
    { name: 'int8-static', quantize: { mode: 'int8-static', perChannel: true } },
  ],
  bench: { backend: 'wasm', threads: 1 },
  objective: 'size',
  allowedDtypes: INT8_DTYPES,
};
