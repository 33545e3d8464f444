// Options and report of `onnxpress quantize`, shared by the modes.
import type { QType } from './quant-math.js';
import type { CalibrationCache, CalibrationMethod } from './calibrate.js';
import type { Sample } from '../runtime/samples.js';
import type { ShapeDiagnostic } from '../ir/shapes.js';
import type { RecurrentWeights } from './recurrent.js';

export type QuantizeMode = 'int8-dynamic' | 'int8-static' | 'fp16' | 'int4';

export interface QuantizeOptions {
  mode: QuantizeMode;
  /** Per-output-channel weight scales (default true for static and for int8-dynamic's Conv, false for int8-dynamic's MatMul/Gemm). */
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
  /**
   * int8-static: activations quantized with 16 bits (int16 or uint16 after activationType),
   * named as their readers see them; weights stay 8-bit. Needs opset 21; onnxruntime runs
   * the ops reading them in float between the 16-bit QuantizeLinear/DequantizeLinear pairs.
   */
  wideTensors?: string[];
  /**
   * int8-static: where Q/DQ pairs go. 'cpu' (default): only where onnxruntime's CPU kernels run
   * the op in integer or the pair folds away, Relu/Clip absorbed, fragile ops in float.
   * 'wasm': as 'cpu', priced for onnxruntime-web's WebAssembly kernels (depthwise convs and
   * convs reducing fewer than 64 values per output stay float: its int8 kernels lose there).
   * 'full-integer': every supported op fed by DequantizeLinear, for int8-only accelerators.
   */
  placement?: 'cpu' | 'wasm' | 'full-integer';
  /**
   * int8-static: depthwise convolutions with kernels above 3x3 stay wholly in float ('float'),
   * or every depthwise convolution runs in integer ('integer'). Default: each runs in integer
   * unless most of its kernel taps fall on padding at the calibration size (then float is faster).
   */
  largeDepthwise?: 'integer' | 'float';
  /** int8-static: calibration samples and method. */
  calibration?: Sample[];
  /** 'auto' (the default): each of minmax, percentile and entropy, keeping the one nearest float (auto-method.ts). */
  method?: CalibrationMethod | 'auto';
  /**
   * Statistics measured before on the same calibration samples, for repeated quantizations of
   * clones of one model. Not read when a technique is asked for: those change the float model
   * calibrated (equalization rescales activations, bias correction edits the biases of what is
   * quantized), so each quantization measures its own.
   */
  calibrationCache?: CalibrationCache;
  percentile?: number;
  /**
   * Tolerance: the nodes adding the most error return to float, the fewest that make the
   * model meet it (measured on `evaluation`, default the calibration samples). maxAccuracyDrop
   * is in points: of accuracy with evaluationLabels, else of top-1 agreement with float;
   * minCosine applies to every output.
   */
  maxAccuracyDrop?: number;
  minCosine?: number;
  /**
   * What a node the tolerance sends back becomes: 'float' (default: float weights and
   * activations) or '16-bit' (8-bit weights, 16-bit activations at opset 21: as small, and
   * usually far more accurate than int8, but run in float by onnxruntime's CPU provider).
   */
  fallback?: 'float' | '16-bit';
  evaluation?: Sample[];
  evaluationLabels?: number[];
  /**
   * int8-static without a tolerance (and not placement 'full-integer'): a quantization (an activation's Q/DQ pair or a weight)
   * whose output error alone is at least this share of the whole int8 model's, measured on 4
   * calibration samples, goes back as `fallback` says (default 0.25; 0 turns it off). Nothing
   * is looked for when the int8 model's relative squared error is below 5e-3 (dominant.ts).
   */
  dominantShare?: number;
  /**
   * int8 and int4 modes: weights stored in float16 or bfloat16 (behind a Cast, or in a model
   * that computes in float16) that stay float: 'as-stored' (default) stores them so again,
   * behind a Cast onnxruntime folds at load; 'float32' for targets without such tensors;
   * 'float16' stores every weight a Conv/Gemm/MatMul left in float reads as float16 that way,
   * float32 ones too (half their bytes, values rounded to float16).
   */
  halfWeights?: 'as-stored' | 'float32' | 'float16';
  /** fp16: keep float32 graph inputs/outputs (default true) and ops left in float32. */
  keepIoTypes?: boolean;
  fp16BlockOps?: string[];
  /**
   * int8 modes: LSTM/GRU/RNN weights. 'float' (default) leaves them float; 'int8-weights'
   * stores them in int8 behind DequantizeLinear (standard ONNX, smaller, each run dequantizes
   * them); 'ort-lstm' makes LSTMs onnxruntime's com.microsoft.DynamicQuantizeLSTM (recurrent.ts).
   */
  recurrent?: RecurrentWeights;
  /** int4: weights per block of this many along K (default 32); MatMulNBits instead of DequantizeLinear. */
  blockSize?: number;
  matMulNBits?: boolean;
  /**
   * int8-static, accuracy-restoring techniques (all default off; see README for what each
   * bought on which model). equalize: cross-layer equalization of Conv -> ReLU? -> Conv
   * chains. smoothQuant: move activation outliers of MatMul/Gemm inputs into the weights
   * (true = alpha 0.5). gptq: round weights to minimize each layer's output error on the
   * calibration activations. biasCorrection: remove the mean output shift weight rounding
   * causes, measured on the calibration activations.
   */
  equalize?: boolean;
  smoothQuant?: boolean | { alpha: number };
  gptq?: boolean;
  biasCorrection?: boolean;
  /** Memory budget of calibration statistics (gptq, biasCorrection), bytes. */
  statsBudgetBytes?: number;
  /** Set by the techniques, read by the static quantizer: int8 weights to use as given. */
  weightOverrides?: Map<string, WeightOverride>;
}

/** A weight quantized by a technique (symmetric int8, zero points 0) with the axis of its scales (undefined: per tensor). */
export interface WeightOverride { values: Int8Array; scales: Float32Array; zeroPoints: Int8Array; axis: number | undefined }

/** What one technique did, for the report. */
export interface TechniqueReport { name: string; layers: number; detail: string }

/** One If branch: the calibration samples that took it and what was quantized inside. */
export interface SubgraphReport { node: string; branch: 'then_branch' | 'else_branch'; samples: number; quantized: Record<string, number> }

export interface LeftInFloat { node: string; opType: string; reason: string }

/** The accuracy-restoring techniques (int8-static only): option names, as the report names them. */
export const TECHNIQUES = ['equalize', 'smoothQuant', 'gptq', 'biasCorrection'] as const;

/** Whether the options ask for any accuracy technique. */
export const asksTechniques = (o: QuantizeOptions): boolean => TECHNIQUES.some((t) => o[t]);

export interface QuantizeReport {
  mode: QuantizeMode;
  /** Quantized nodes by op type. */
  quantized: Record<string, number>;
  leftInFloat: LeftInFloat[];
  /** Nodes whose output shapes inference could not give, and why (a layer after them may be missed). */
  shapeUnknown: ShapeDiagnostic[];
  warnings: string[];
  opset: { from: number; to: number };
  /** int8-static: the accuracy-restoring techniques that ran. */
  techniques?: TechniqueReport[];
  /** int8-static: each branch of a main-graph If, quantized as a model of its own (its counts are in `quantized` too). */
  subgraphs?: SubgraphReport[];
  /** With maxAccuracyDrop/minCosine: what was measured before and after, and the nodes returned to float. */
  tolerance?: ToleranceReport;
  /** int8-static without a tolerance: the dominant-error rule (dominantShare). */
  dominant?: DominantReport;
  /** With method 'auto': the method kept, and each one's worst-output cosine to float. */
  calibrationMethod?: { chosen: CalibrationMethod; scores: { method: CalibrationMethod; cosine: number }[] };
}

/** What the dominant-error rule measured and sent back (int8-static without a tolerance). */
export interface DominantReport {
  share: number;
  /** What sending back means: nodes to float, or activations to 16 bits. */
  fallback: 'float' | '16-bit';
  /** The int8 model's relative squared output error to float (mean over `samples`), in onnxruntime. */
  outputError: number;
  samples: number;
  /** Probe runs the search took (each over every sample). */
  runs: number;
  /**
   * What was sent back: `share` is of the error of the model it was found in (the first, or
   * the last kept after an earlier round), and may exceed 1 where errors do not add up;
   * `nodes` are the nodes returned to float (fallback '16-bit': the tensors widened).
   */
  returned: { kind: 'activation' | 'weight'; name: string; share: number; nodes: string[] }[];
  /** The error with them sent back. With accuracy techniques both are measured on plain quantizations (the search runs there). */
  outputErrorAfter?: number;
  /** With accuracy techniques: the error of the model returned (techniques applied, what was found sent back). */
  outputErrorWithTechniques?: number;
  /** Dominant ones left quantized, and why (their nodes hold much of the weights; sending them back did not remove their share). */
  kept: { kind: 'activation' | 'weight'; name: string; share: number; why: string }[];
}

export interface ToleranceReport {
  metric: 'accuracyDrop' | 'cosine'; before: number; after: number; met: boolean;
  fallback: 'float' | '16-bit';
  /** Nodes returned to float (fallback 'float'), activations quantized with 16 bits (fallback '16-bit'). */
  returnedToFloat: string[];
  widened: string[];
}
