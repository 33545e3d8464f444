import { cpus } from 'node:os';
import { CPU_DTYPES, INT8_QUALITY, NOT_LARGER, NOT_SLOWER, type TargetProfile } from './profile.js';

export const cpuX86: TargetProfile = {
  name: 'cpu-x86',
  description: 'x86-64 server or desktop CPU: int8 where it is faster',
  assumes: 'onnxruntime CPU provider with every graph optimization on, all cores of the machine; int8 kernels (VNNI/AVX2) make quantized MatMul/Conv faster. Tries dynamic and static int8 and keeps the fastest that meets the tolerances.',
  recipes: [
    { name: 'int8-dynamic', quantize: { mode: 'int8-dynamic', perChannel: true } },
    { name: 'int8-static', quantize: { mode: 'int8-static', perChannel: true, method: 'auto' } },
  ],
  bench: { backend: 'node', threads: Math.max(1, cpus().length) },
  objective: 'latency',
  allowedDtypes: CPU_DTYPES,
  // Latency is measured on the device's own kernels (or a capped-thread proxy), so the guard holds.
  defaults: { ...INT8_QUALITY, ...NOT_LARGER, ...NOT_SLOWER },
};
