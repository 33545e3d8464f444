import { cpus } from 'node:os';
import { CPU_DTYPES, INT8_QUALITY, NOT_LARGER, NOT_SLOWER, type TargetProfile } from './profile.js';

export const cpuArm64: TargetProfile = {
  name: 'cpu-arm64',
  description: 'Raspberry Pi class ARM64 board: int8, at most 4 threads',
  assumes: 'a 4-core Cortex-A class CPU running onnxruntime; latency is measured here with the thread count capped at 4, as a proxy (run `onnxpress bench` on the board for real numbers). Static QDQ int8 first (it maps onto the ARM int8 dot-product kernels), dynamic int8 as the alternative, and structured channel pruning (25% of the channels, no fine-tuning) before static int8 as a third candidate.',
  recipes: [
    { name: 'int8-static', quantize: { mode: 'int8-static', perChannel: true, method: 'auto' } },
    { name: 'int8-dynamic', quantize: { mode: 'int8-dynamic', perChannel: true } },
    // A small board gains from every channel removed; without fine-tuning the tolerances decide.
    { name: 'channels-25%+int8-static', prune: { method: 'channels', ratio: 0.25 }, quantize: { mode: 'int8-static', perChannel: true, method: 'auto' } },
  ],
  bench: { backend: 'node', threads: Math.min(4, Math.max(1, cpus().length)) },
  objective: 'latency',
  allowedDtypes: CPU_DTYPES,
  // Latency is measured on the device's own kernels (or a capped-thread proxy), so the guard holds.
  defaults: { ...INT8_QUALITY, ...NOT_LARGER, ...NOT_SLOWER },
};
