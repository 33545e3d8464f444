import { FP16_DTYPES, NOT_LARGER, type TargetProfile } from './profile.js';

export const gpuFp16: TargetProfile = {
  name: 'gpu-fp16',
  description: 'GPUs and mobile GPUs: float16 weights and compute',
  assumes: 'a GPU execution provider with native float16 (CUDA, DirectML, CoreML, WebGPU); inputs and outputs stay float32; ops on the fp16 block list stay float32 behind Casts. No GPU is needed to compress: latency is measured on the CPU provider, which only shows that the model runs.',
  recipes: [{ name: 'fp16', quantize: { mode: 'fp16', keepIoTypes: true } }],
  bench: { backend: 'node', threads: 1 },
  objective: 'size',
  allowedDtypes: FP16_DTYPES,
  // float16 keeps 11 significant bits (relative rounding 5e-4 per value), so a sound fp16 model
  // agrees with its original to a cosine of 0.9999 or better and rarely flips a top-1 class:
  // 0.999 (about 4.5% relative error) and a quarter point catch an overflow or a block-list
  // miss, not rounding.
  defaults: { minCosine: 0.999, maxAccuracyDrop: 0.25, ...NOT_LARGER },
  latencyNotJudged: 'latency is measured on the CPU provider, which has no native float16: it shows the model runs, not how fast it runs on a GPU',
};
