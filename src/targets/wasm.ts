import { INT8_DTYPES, INT8_QUALITY, NOT_LARGER, NOT_SLOWER, type TargetProfile } from './profile.js';

export const wasm: TargetProfile = {
  name: 'wasm',
  description: 'onnxruntime-web in a browser: one thread, download size weighs most',
  assumes: "onnxruntime-web's WebAssembly backend without threads (no cross-origin isolation); the model travels over the network, so the candidate with the smallest brotli-compressed size that meets the tolerances wins; channel pruning (25%, no fine-tuning) is tried too; latency is measured on the same WebAssembly kernels, run in Node.",
  recipes: [
    { name: 'int8-dynamic', quantize: { mode: 'int8-dynamic', perChannel: true } },
    { name: 'int8-static', quantize: { mode: 'int8-static', perChannel: true } },
    // Fewer channels is fewer bytes to download; without fine-tuning the tolerances decide.
    { name: 'channels-25%+int8-dynamic', prune: { method: 'channels', ratio: 0.25 }, quantize: { mode: 'int8-dynamic', perChannel: true } },
  ],
  bench: { backend: 'wasm', threads: 1 },
  objective: 'download',
  allowedDtypes: INT8_DTYPES,
  // Latency is measured on the device's own kernels (or a capped-thread proxy), so the guard holds.
  defaults: { ...INT8_QUALITY, ...NOT_LARGER, ...NOT_SLOWER },
};
