import { hasRecurrentWeights } from '../quantize/recurrent.js';
import { INT8_DTYPES, INT8_QUALITY, NOT_LARGER, NOT_SLOWER, type TargetProfile } from './profile.js';

export const wasm: TargetProfile = {
  name: 'wasm',
  description: 'onnxruntime-web in a browser: one thread, download size weighs most',
  assumes: "onnxruntime-web's WebAssembly backend without threads (no cross-origin isolation); the model travels over the network, so the candidate with the smallest brotli-compressed size that meets the tolerances wins; channel pruning (25%, no fine-tuning) is tried too; int8-static is placed for WebAssembly's kernels (depthwise convs and convs reducing fewer than 64 values stay float: their int8 kernels are slower there); latency is measured in headless Chromium (both onnxruntime-web builds, cold and steady; the verdict reads the WebAssembly-only build's steady state), or on the same kernels in Node when no browser is available.",
  recipes: [
    { name: 'int8-dynamic', quantize: { mode: 'int8-dynamic', perChannel: true } },
    // Priced for WebAssembly kernels: depthwise and shallow convs stay float (kernel-cost.ts).
    // In Chromium the PP-OCR recognizer and detector went from 0.78x / 0.96x of float speed
    // (the CPU provider's placement) to 1.46x / 1.39x.
    { name: 'int8-static', quantize: { mode: 'int8-static', perChannel: true, placement: 'wasm', method: 'auto' } },
    // A CRNN's LSTM weights can be a third of its bytes (ddddocr's recognizer: 16 of 51.6 MiB):
    // int8 behind DequantizeLinear halves the int8 file; each run dequantizes them, so the
    // latency guard decides (tried only on models with such weights).
    { name: 'int8-dynamic+recurrent-int8', appliesTo: hasRecurrentWeights, quantize: { mode: 'int8-dynamic', perChannel: true, recurrent: 'int8-weights' } },
    { name: 'int8-static+recurrent-int8', appliesTo: hasRecurrentWeights, quantize: { mode: 'int8-static', perChannel: true, placement: 'wasm', recurrent: 'int8-weights', method: 'auto' } },
    // Fewer channels is fewer bytes to download; without fine-tuning the tolerances decide.
    { name: 'channels-25%+int8-dynamic', prune: { method: 'channels', ratio: 0.25 }, quantize: { mode: 'int8-dynamic', perChannel: true } },
  ],
  // Judged on the WebAssembly-only build (`onnxruntime-web/wasm`) in steady state. A site that
  // runs only the wasm EP and counts download bytes, this target's premise, loads that build:
  // its .wasm is about half the default bundle's (14 MB against 27 MB: that one carries
  // WebGPU/JSEP), and its sessions are created 2-3x sooner (ResNet-20 and the MNIST MLP: 1.0-1.3 s
  // against 2.5-4.3 s in Chromium here). It is also the build where int8 kernels lose most
  // against float (the MLP's int8-dynamic: 1.40x against 1.27x, int8-static 2.7x against 2.5x;
  // issue 15's MobileNetV2: 3x against 1.3x), so it is mostly the stricter guard of the two
  // (not always: mnist-8's int8-dynamic ran 1.00x here against 1.04x in the default build).
  // Steady, not cold: a cold start is one figure per fresh browser, so a 95% interval would need
  // tens of pages per model (minutes); cold figures and ratios are reported, not judged.
  bench: { backend: 'wasm', threads: 1, browserBuild: 'wasm-only' },
  objective: 'download',
  allowedDtypes: INT8_DTYPES,
  // Latency is measured on the device's own kernels (or a capped-thread proxy), so the guard holds.
  defaults: { ...INT8_QUALITY, ...NOT_LARGER, ...NOT_SLOWER },
};
