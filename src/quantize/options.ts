// Options and report of `onnxpress quantize`, shared by the modes.
import type { QType } from './quant-math.js';
import type { CalibrationMethod } from './calibrate.js';
import type { Sample } from '../runtime/samples.js';
import type { ShapeDiagnostic } from '../ir/shapes.js';

export type QuantizeMode = 'int8-dynamic' | 'int8-static' | 'fp16' | 'int4';

export interface QuantizeOptions {
  mode: QuantizeMode;
  /** Per-output-channel weight scales (default true for static, false for dynamic). */
  perChannel?: boolean;
  /** Symmetric activations (default false: asymmetric uint8) and weights (default true). */
  symmetricActivations?: boolean;
  symmetricWeights?: boolean;
  activationType?: QType;
  weightType?: QType;
  reduceRange?: boolean;
  /**
   * Only these op types are quantized (default: every supported one, except that
   * int8-dynamic leaves Conv in float unless it is listed: ConvInteger is slow on CPU).
   */
  opTypes?: string[];
  excludeOpTypes?: string[];
  excludeNodes?: string[];
  /** int8-static: calibration samples and method. */
  calibration?: Sample[];
  method?: CalibrationMethod;
  percentile?: number;
  /** fp16: keep float32 graph inputs/outputs (default true) and ops left in float32. */
  keepIoTypes?: boolean;
  fp16BlockOps?: string[];
  /** int4: weights per block of this many along K (default 32); MatMulNBits instead of DequantizeLinear. */
  blockSize?: number;
  matMulNBits?: boolean;
}

export interface LeftInFloat { node: string; opType: string; reason: string }

export interface QuantizeReport {
  mode: QuantizeMode;
  /** Quantized nodes by op type. */
  quantized: Record<string, number>;
  leftInFloat: LeftInFloat[];
  /** Nodes whose output shapes inference could not give, and why (a layer after them may be missed). */
  shapeUnknown: ShapeDiagnostic[];
  warnings: string[];
  opset: { from: number; to: number };
}
