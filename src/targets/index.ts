// Every target profile, by name.
import { OnnxpressError } from '../errors.js';
import { cpuArm64 } from './cpu-arm64.js';
import { cpuX86 } from './cpu-x86.js';
import { gpuFp16 } from './gpu-fp16.js';
import { npuInt8 } from './npu-int8.js';
import type { TargetProfile } from './profile.js';
import { wasm } from './wasm.js';

export const targets: TargetProfile[] = [cpuX86, cpuArm64, wasm, npuInt8, gpuFp16];

export function findTarget(name: string): TargetProfile {
  const t = targets.find((p) => p.name === name);
  if (!t) throw new OnnxpressError('BAD_INPUT', `unknown target '${name}' (${targets.map((p) => p.name).join(', ')})`);
  return t;
}

export { checkProfile, recipesFor, type TargetProfile, type ProfileViolation, type Recipe } from './profile.js';
